export interface LinkTemplates {
  /** e.g. `https://kibana.example/app/discover#/?_a=(query:(language:kuery,query:'finding.id:"{findingId}"'))` */
  finding: string | null;
  /** Used when the alert has no finding: e.g. a dashboard filtered by `{licenseServer}`. */
  server: string | null;
}

export interface LinkVars {
  findingId: string | null;
  licenseServer: string;
  product: string | null;
  dedupKey: string;
  rule: string;
}

const PLACEHOLDER = /\{(findingId|licenseServer|product|dedupKey|rule)\}/g;

/** Fills a link template; values are URI-encoded so they cannot break out of the URL. */
export function fillTemplate(template: string, vars: LinkVars): string {
  return template.replace(PLACEHOLDER, (_, name: keyof LinkVars) => encodeURIComponent(vars[name] ?? ''));
}

/** The finding's link when there is a finding, else the server view, else none. */
export function buildLink(templates: LinkTemplates, vars: LinkVars): string | null {
  if (vars.findingId !== null && templates.finding !== null) return fillTemplate(templates.finding, vars);
  if (templates.server !== null) return fillTemplate(templates.server, vars);
  return null;
}
