// The script of the `calwatch analyze --format html` page (inlined by analyze-html.ts):
// draws the pool charts with uPlot and runs the revoke-plan table. Plain browser
// JavaScript, no build step; the data comes from the page's JSON script elements.
(function () {
  'use strict';
  var json = function (id) {
    return JSON.parse(document.getElementById(id).textContent);
  };
  var report = json('calwatch-report-data');
  var chartData = json('calwatch-chart-data');
  var plan = json('calwatch-revocation-rows');
  var asOfSec = Date.parse(report.asOf) / 1000;
  var fmt = new Intl.NumberFormat('en-US');
  var day = function (sec) {
    return new Date(sec * 1000).toISOString().slice(0, 10);
  };

  // ---- Pool charts: CALs in use and pool size per day; exhaustion as a dashed line.
  var charts = [];
  // Counts hold from one day's end to the next: steps, not slopes.
  var stepped = uPlot.paths.stepped({ align: 1 });
  document.querySelectorAll('.chart[data-pool]').forEach(function (el) {
    var pool = chartData.pools[Number(el.getAttribute('data-pool'))];
    var xs = pool.points.map(function (p) { return Date.parse(p[0]) / 1000; });
    var inUse = pool.points.map(function (p) { return p[1]; });
    var size = pool.points.map(function (p) { return p[2]; });
    var exhaustSec = pool.exhaustion === null ? null : Date.parse(pool.exhaustion.at) / 1000;
    var xMax = xs[xs.length - 1];
    var span = Math.max(86400 * 7, xMax - xs[0]);
    // A projection far beyond the data would flatten it: then only the caption gives the date.
    if (exhaustSec !== null && exhaustSec > xMax) {
      if (exhaustSec - xMax <= span) xMax = exhaustSec + 86400;
      else exhaustSec = null;
    }
    var xMin = xs[0] === xMax ? xMax - 86400 : xs[0];
    var marker = {
      hooks: {
        draw: function (u) {
          if (exhaustSec === null) return;
          var basis = pool.exhaustion.basis;
          var x = u.valToPos(exhaustSec, 'x', true);
          var ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = '#c0392b';
          ctx.setLineDash([6, 4]);
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.fillStyle = '#c0392b';
          ctx.font = 'bold ' + Math.round(12 * devicePixelRatio) + 'px system-ui, sans-serif';
          ctx.textAlign = x > u.bbox.left + u.bbox.width / 2 ? 'right' : 'left';
          var label = (basis === 'reached' ? 'exhausted ' : 'projected exhaustion ') + day(exhaustSec);
          ctx.fillText(label, x + (ctx.textAlign === 'right' ? -6 : 6), u.bbox.top + 16 * devicePixelRatio);
          ctx.restore();
        },
      },
    };
    var width = Math.max(320, Math.min(1100, el.clientWidth || 900));
    var chart = new uPlot(
      {
        width: width,
        height: 300,
        plugins: [marker],
        scales: { x: { time: true, range: [xMin, xMax] }, y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.08]; } } },
        series: [
          { label: 'day' },
          { label: 'CALs in use', stroke: '#1f6feb', width: 2, paths: stepped, fill: 'rgba(31,111,235,0.08)', value: function (u, v) { return v === null || v === undefined ? '–' : fmt.format(v); } },
          { label: 'pool size', stroke: '#2e7d32', width: 2, paths: stepped, dash: [8, 4], value: function (u, v) { return v === null || v === undefined ? '–' : fmt.format(v); } },
        ],
        axes: [{}, { values: function (u, vals) { return vals.map(function (v) { return fmt.format(v); }); }, size: 60 }],
      },
      [xs, inUse, size],
      el,
    );
    charts.push({ pool: Number(el.getAttribute('data-pool')), chart: chart });
  });
  // For anyone checking the page: what each chart was drawn from.
  window.calwatchCharts = charts.map(function (c) {
    return { pool: c.pool, data: c.chart.data.map(function (s) { return Array.prototype.slice.call(s); }) };
  });

  // ---- Revoke plan: rows stay compact arrays; only the visible page becomes DOM.
  var rows = plan.rows;
  var PAGE = 100;
  var COL_CAUSE = 9;
  var cell = function (row, col) {
    switch (col) {
      case 0: return plan.servers[row[0]];
      case 3: return plan.products[row[3]] === null ? 'unknown' : plan.products[row[3]];
      case 4: return plan.findings[row[4]][0];
      case COL_CAUSE: return plan.findings[row[4]][1];
      default: return row[col];
    }
  };
  var selected = new Uint8Array(rows.length);
  var selectedCount = 0;
  var order = new Uint32Array(rows.length);
  for (var i = 0; i < rows.length; i++) order[i] = i;
  var shown = order;
  var sortCol = -1;
  var sortDir = 1;
  var page = 0;
  var search = null;
  var body = document.getElementById('rv-body');
  var status = document.getElementById('rv-status');
  var script = document.getElementById('rv-script');

  var text = function (i) {
    var r = rows[i];
    return (plan.servers[r[0]] + ' ' + r[1] + ' ' + r[2] + ' ' + cell(r, 3) + ' ' + plan.findings[r[4]][0] + ' ' + plan.findings[r[4]][1]).toLowerCase();
  };

  var applyFilter = function (query) {
    var terms = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
    if (terms.length === 0) shown = order;
    else {
      if (search === null) {
        search = new Array(rows.length);
        for (var r = 0; r < rows.length; r++) search[r] = text(r);
      }
      var out = [];
      for (var k = 0; k < order.length; k++) {
        var t = search[order[k]];
        var ok = true;
        for (var j = 0; j < terms.length && ok; j++) ok = t.indexOf(terms[j]) !== -1;
        if (ok) out.push(order[k]);
      }
      shown = Uint32Array.from(out);
    }
    page = 0;
    render();
  };

  var applySort = function (col) {
    sortDir = sortCol === col ? -sortDir : 1;
    sortCol = col;
    var list = Array.prototype.slice.call(order);
    list.sort(function (a, b) {
      var x = cell(rows[a], col);
      var y = cell(rows[b], col);
      var d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
      return d * sortDir || a - b;
    });
    order = Uint32Array.from(list);
    document.querySelectorAll('#rv-table th[data-col]').forEach(function (th) {
      var c = Number(th.getAttribute('data-col'));
      th.setAttribute('aria-sort', c === sortCol ? (sortDir === 1 ? 'ascending' : 'descending') : 'none');
    });
    applyFilter(document.getElementById('rv-filter').value);
  };

  var td = function (tr, value, cls) {
    var c = document.createElement('td');
    c.textContent = value;
    if (cls) c.className = cls;
    tr.appendChild(c);
  };

  function render() {
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    if (page >= pages) page = pages - 1;
    var frag = document.createDocumentFragment();
    var end = Math.min(shown.length, (page + 1) * PAGE);
    var allOnPage = end > page * PAGE;
    for (var k = page * PAGE; k < end; k++) {
      var i = shown[k];
      var r = rows[i];
      var tr = document.createElement('tr');
      tr.setAttribute('data-row', String(i));
      var c0 = document.createElement('td');
      var box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = selected[i] === 1;
      box.setAttribute('data-row', String(i));
      box.setAttribute('aria-label', 'Select license ' + r[1]);
      if (!box.checked) allOnPage = false;
      c0.appendChild(box);
      tr.appendChild(c0);
      td(tr, String(r[1]), 'n');
      td(tr, plan.servers[r[0]]);
      td(tr, String(r[2]), 'n');
      td(tr, cell(r, 3), 'product');
      td(tr, plan.findings[r[4]][1], 'cause');
      td(tr, plan.findings[r[4]][0], 'finding');
      td(tr, String(r[5]), 'n');
      td(tr, r[6] <= asOfSec ? 'now' : day(r[6]), 'date');
      td(tr, r[7] < 0 ? '–' : day(r[7]), 'date');
      frag.appendChild(tr);
    }
    body.replaceChildren(frag);
    document.getElementById('rv-page-all').checked = allOnPage;
    document.getElementById('rv-page').textContent =
      shown.length === 0 ? 'no rows' : 'rows ' + fmt.format(page * PAGE + 1) + '–' + fmt.format(end) + ' of ' + fmt.format(shown.length) + (shown.length < rows.length ? ' (filtered from ' + fmt.format(rows.length) + ')' : '');
    document.getElementById('rv-prev').disabled = page === 0;
    document.getElementById('rv-next').disabled = page >= pages - 1;
    status.textContent = fmt.format(selectedCount) + ' selected';
  }

  var select = function (i, on) {
    if ((selected[i] === 1) === on) return;
    selected[i] = on ? 1 : 0;
    selectedCount += on ? 1 : -1;
  };

  var psQuote = function (s) { return "'" + String(s).replace(/'/g, "''") + "'"; };

  // One Revoke() per license, in plan order; each line says when the 20 % rule allows it.
  var powershell = function () {
    var picked = [];
    for (var k = 0; k < order.length; k++) if (selected[order[k]] === 1) picked.push(rows[order[k]]);
    picked.sort(function (a, b) { return a[0] - b[0] || a[6] - b[6] || a[1] - b[1]; });
    var lines = [
      '# calwatch revoke plan as of ' + report.asOf + ': ' + picked.length + ' CALs.',
      '# A license server revokes at most 20 % of the installed CALs of a version (or one) until earlier',
      '# revocations expire: run each line on or after its date; a refused one reports NextRevokeAllowedOn.',
      'function Revoke-Cal([string]$Server, [uint32]$KeyPackId, [uint32]$LicenseId) {',
      '  $license = Get-CimInstance -ComputerName $Server -ClassName Win32_TSIssuedLicense -Filter "KeyPackId=$KeyPackId AND LicenseId=$LicenseId"',
      '  if ($null -eq $license) { Write-Warning "${Server}: license $LicenseId (key pack $KeyPackId) not found"; return }',
      '  $result = $license | Invoke-CimMethod -MethodName Revoke',
      '  if ($result.ReturnValue -ne 0) { Write-Warning "${Server}: license $LicenseId not revoked (ReturnValue $($result.ReturnValue), next revoke allowed on $($result.NextRevokeAllowedOn))" }',
      '}',
    ];
    picked.forEach(function (r) {
      lines.push('Revoke-Cal ' + psQuote(plan.servers[r[0]]) + ' ' + r[2] + ' ' + r[1] + '  # ' + (r[6] <= asOfSec ? 'now' : 'from ' + day(r[6])) + ', ' + plan.findings[r[4]][1]);
    });
    return lines.join('\r\n') + '\r\n';
  };

  document.querySelectorAll('#rv-table th[data-col]').forEach(function (th) {
    th.tabIndex = 0;
    th.setAttribute('aria-sort', 'none');
    var go = function () { applySort(Number(th.getAttribute('data-col'))); };
    th.addEventListener('click', go);
    th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } });
  });
  var timer = null;
  document.getElementById('rv-filter').addEventListener('input', function (e) {
    clearTimeout(timer);
    var value = e.target.value;
    timer = setTimeout(function () { applyFilter(value); }, 120);
  });
  body.addEventListener('change', function (e) {
    var i = e.target.getAttribute('data-row');
    if (i === null) return;
    select(Number(i), e.target.checked);
    render();
  });
  document.getElementById('rv-page-all').addEventListener('change', function (e) {
    var end = Math.min(shown.length, (page + 1) * PAGE);
    for (var k = page * PAGE; k < end; k++) select(shown[k], e.target.checked);
    render();
  });
  document.getElementById('rv-select-filtered').addEventListener('click', function () {
    for (var k = 0; k < shown.length; k++) select(shown[k], true);
    render();
  });
  document.getElementById('rv-clear').addEventListener('click', function () {
    selected.fill(0);
    selectedCount = 0;
    render();
  });
  document.getElementById('rv-size').addEventListener('change', function (e) {
    // Keep the first row shown in view; a bigger page is what gets printed.
    var first = page * PAGE;
    PAGE = Number(e.target.value);
    page = Math.floor(first / PAGE);
    render();
  });
  document.getElementById('rv-prev').addEventListener('click', function () { page--; render(); });
  document.getElementById('rv-next').addEventListener('click', function () { page++; render(); });
  document.getElementById('rv-copy').addEventListener('click', function () {
    if (selectedCount === 0) {
      status.textContent = 'Select rows first.';
      return;
    }
    var text = powershell();
    script.value = text;
    var done = function () { status.textContent = 'Copied PowerShell for ' + fmt.format(selectedCount) + ' CALs.'; };
    var fallback = function () {
      script.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
      status.textContent = ok ? 'Copied PowerShell for ' + fmt.format(selectedCount) + ' CALs.' : 'Copy it from the box below.';
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  });
  render();
})();
