// Live line state on the dashboard: poll /status.json every two seconds and refresh the table.
(function () {
  "use strict";
  var table = document.getElementById("lines");
  if (!table) { return; }
  var body = table.querySelector("tbody");
  function cell(text, className) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (className) { td.className = className; }
    return td;
  }
  function refresh() {
    fetch(table.dataset.poll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        var rows = document.createDocumentFragment();
        status.lines.forEach(function (line) {
          var tr = document.createElement("tr");
          tr.dataset.line = line.line;
          tr.appendChild(cell(line.line));
          tr.appendChild(cell(line.state, "state state-" + line.state));
          tr.appendChild(cell(line.detail));
          tr.appendChild(cell(line.job));
          rows.appendChild(tr);
        });
        if (status.lines.length) { body.replaceChildren(rows); }
        document.getElementById("pages-in").textContent = status.today.pages_in;
        document.getElementById("pages-out").textContent = status.today.pages_out;
      })
      .catch(function () { /* the next poll tries again */ });
  }
  setInterval(refresh, 2000);
})();
