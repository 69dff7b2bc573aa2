import { defineErrors } from '@calwatch/model';

/** Failures of `calwatch stack`. Messages name the port, file or log that explains them. */
export const STACK_ERRORS = defineErrors({
  STACK_SETTINGS_INVALID: {
    description: 'A CALWATCH_STACK_* / CALWATCH_*_VERSION variable failed validation; the message lists every problem.',
    retriable: false,
  },
  STACK_PORT_IN_USE: {
    description: 'A port the stack needs is already bound by a process the stack did not start. Free it or choose another port.',
    retriable: false,
  },
  STACK_JAVA_NOT_FOUND: {
    description: 'No JDK of a supported major version was found under /usr/lib/jvm, JAVA_HOME or CALWATCH_JAVA_HOME.',
    retriable: false,
  },
  STACK_TOOL_MISSING: {
    description: 'A program the stack needs (mvn, unzip, useradd, setpriv) is not installed.',
    retriable: false,
  },
  STACK_DOWNLOAD_FAILED: {
    description: 'Maven could not resolve the Kafka or Elasticsearch artifacts from Maven Central; the message names the Maven log.',
    retriable: true,
  },
  STACK_ARTIFACT_DIGEST_MISMATCH: {
    description:
      'A downloaded Kafka or Elasticsearch file does not have the SHA-256 pinned in the repository (tools/stack/src/pinned-artifacts.ts): it was tampered with or corrupted on the way. The file is deleted and nothing is started; the message names file, expected and actual digest.',
    retriable: false,
  },
  STACK_ARTIFACT_NOT_PINNED: {
    description:
      'A downloaded file has no pinned SHA-256 (another Kafka/Elasticsearch version, or a dependency Maven added): it is not used. Check it against Maven Central and add its digest to tools/stack/src/pinned-artifacts.ts.',
    retriable: false,
  },
  STACK_COMMAND_FAILED: {
    description: 'A preparation step (storage format, user creation, unpacking) exited non-zero; the message carries its output.',
    retriable: false,
  },
  STACK_START_FAILED: {
    description: 'Kafka or Elasticsearch exited during start-up or did not become ready in time; the message names its log file.',
    retriable: false,
  },
  STACK_MODE_MISMATCH: {
    description:
      'The stack already runs in the other mode (plain vs TLS): `stack up --tls` never switches a running plain stack, nor `stack up` a TLS one. Run `calwatch stack down`, then `up` in the mode wanted.',
    retriable: false,
  },
  STACK_LOCKED: {
    description: 'Another calwatch process held the stack lock for too long (a concurrent `stack up`/`down`).',
    retriable: true,
  },
  STACK_STATE_INVALID: {
    description: 'stack.json or a pid file in the stack state directory could not be read; `calwatch stack down` then `up` rewrites them.',
    retriable: false,
  },
});

export type StackErrorCode = keyof typeof STACK_ERRORS.table;
