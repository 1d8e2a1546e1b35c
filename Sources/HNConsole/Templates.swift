/// The console's page templates (Mustache; `{{x}}` is HTML-escaped). Kept in the binary so a
/// deployment is one file.
enum Templates {
    static let all: [String: String] = [
        "top": top, "bottom": bottom, "page": page, "login": login, "queueBody": queueBody, "incident": incident, "sensors": sensors,
        "accounts": accounts, "error": error,
    ]

    static let top = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · hnsensor</title>
        <link rel="stylesheet" href="/static/console.css">
        <script src="/static/console.js" defer></script>
        </head>
        <body>
        <header class="bar">
          <a class="brand" href="/incidents">hnsensor</a>
          {{#who}}
          <nav>
            <a href="/incidents"{{#navQueue}} aria-current="page"{{/navQueue}}>Incidents</a>
            <a href="/sensors"{{#navSensors}} aria-current="page"{{/navSensors}}>Sensors</a>
            {{#admin}}<a href="/accounts"{{#navAccounts}} aria-current="page"{{/navAccounts}}>Accounts</a>{{/admin}}
          </nav>
          <form class="logout" method="post" action="/logout">
            <span class="who">{{name}} <span class="role">{{role}}</span></span>
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button type="submit">Log out</button>
          </form>
          {{/who}}
        </header>
        <main>
        """

    static let bottom = """
        </main>
        </body>
        </html>
        """

    static let login = """
        {{> top}}
        <section class="login">
          <h1>Sign in</h1>
          {{#message}}<p class="flash error" role="alert">{{message}}</p>{{/message}}
          <form method="post" action="/login">
            <input type="hidden" name="csrf_token" value="{{loginToken}}">
            <input type="hidden" name="next" value="{{next}}">
            <label>Account <input name="username" autocomplete="username" required autofocus value="{{username}}"></label>
            <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
            <button type="submit">Sign in</button>
          </form>
        </section>
        {{> bottom}}
        """

    /// The queue below the bar: the same for every account, so it is cached for a second.
    static let queueBody = """
        <h1>Incidents <span class="count">{{total}}</span></h1>
        <nav class="tabs">
          {{#tabs}}<a href="{{href}}" class="{{#current}}current{{/current}}">{{label}} <span class="count">{{count}}</span></a>{{/tabs}}
        </nav>
        <form class="filters" method="get" action="/incidents">
          <input type="hidden" name="status" value="{{filter.status}}">
          <label>Priority <select name="priority">{{#priorities}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/priorities}}</select></label>
          <label>Class <select name="class">{{#classes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/classes}}</select></label>
          <label>Constituent <select name="constituent">{{#constituents}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/constituents}}</select></label>
          <label>Segment <select name="segment">{{#segments}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/segments}}</select></label>
          <label>Assignee <input name="assignee" value="{{filter.assignee}}" size="10" placeholder="name or -"></label>
          <label>Text <input name="q" value="{{filter.q}}" size="18" placeholder="title or address"></label>
          <button type="submit">Filter</button> <a href="/incidents">Reset</a>
        </form>
        {{#reportable}}<p class="flash warn">{{reportable}} reportable incident(s) not yet reported{{#overdue}}, {{overdue}} overdue{{/overdue}}.</p>{{/reportable}}
        <table class="queue" id="queue">
          <thead><tr><th>#</th><th>Priority</th><th>Status</th><th>Class</th><th>Title</th><th>Sources</th><th>Targets</th>
            <th>Constituents</th><th>Segment</th><th>Alerts</th><th>Last seen</th><th>Report by</th><th>Assignee</th></tr></thead>
          <tbody>
          {{{rowsHTML}}}
          {{^hasRows}}<tr><td colspan="13" class="empty">No incident matches.</td></tr>{{/hasRows}}
          </tbody>
        </table>
        <nav class="pages">
          {{#previous}}<a rel="prev" href="{{previous}}">← newer page</a>{{/previous}}
          <span>page {{page}} of {{pages}}</span>
          {{#nextPage}}<a rel="next" href="{{nextPage}}">next page →</a>{{/nextPage}}
        </nav>
        <p class="hint">Keys: j / k move, Enter opens.</p>
        """

    /// A page whose body was rendered apart (the queue's).
    static let page = """
        {{> top}}
        {{{body}}}
        {{> bottom}}
        """

    static let incident = """
        {{> top}}
        {{#i}}
        <h1><span class="prio {{priorityClass}}">{{priority}}</span> Incident {{id}}: {{title}}</h1>
        <section class="summary">
          <dl>
            <dt>Status</dt><dd id="status">{{status}}</dd>
            <dt>Priority</dt><dd>{{priority}}: <span id="priority-reason">{{priorityReason}}</span></dd>
            <dt>Class (RSIT)</dt><dd>{{classification}} (rule {{ruleID}})</dd>
            <dt>Seen</dt><dd>{{firstSeen}} to {{lastSeen}}</dd>
            <dt>Alerts</dt><dd>{{alertCount}} in {{eventCount}} events</dd>
            <dt>Assignee</dt><dd id="assignee">{{assignee}}</dd>
            <dt>Constituents</dt><dd>{{constituents}}</dd>
            <dt>Segments</dt><dd>{{segments}}</dd>
            <dt>Sensors</dt><dd>{{sensors}}</dd>
            <dt>Patient care</dt><dd>{{patientCare}}</dd>
            <dt>Reporting</dt><dd id="reporting">{{reporting}}</dd>
            {{#hasRelated}}<dt>Related</dt><dd>{{#related}}<a href="/incidents/{{.}}">incident {{.}}</a> {{/related}}</dd>{{/hasRelated}}
          </dl>
        </section>
        {{/i}}
        {{#mayChange}}
        <section class="actions">
          <h2>Work the incident</h2>
          {{#hasNext}}
          <form method="post" action="/incidents/{{i.id}}/update" class="inline" id="status-form">
            <input type="hidden" name="csrf_token" value="{{who.csrf}}">
            <label>Move to <select name="status" id="next-status">{{#next}}<option value="{{.}}">{{.}}</option>{{/next}}</select></label>
            <button type="submit">Move</button>
          </form>
          {{/hasNext}}
          <form method="post" action="/incidents/{{i.id}}/update" class="inline" id="assign-form">
            <input type="hidden" name="csrf_token" value="{{who.csrf}}">
            <label>Assign to <input name="assignee" required value="{{who.name}}" size="12"></label>
            <button type="submit">Assign</button>
          </form>
          {{#reportOpen}}
          <form method="post" action="/incidents/{{i.id}}/update" class="inline" id="reported-form">
            <input type="hidden" name="csrf_token" value="{{who.csrf}}">
            <input type="hidden" name="reported" value="true">
            <button type="submit">Mark reported</button>
          </form>
          {{/reportOpen}}
          <form method="post" action="/incidents/{{i.id}}/update" id="note-form">
            <input type="hidden" name="csrf_token" value="{{who.csrf}}">
            <label>Note <textarea name="note" rows="2" cols="60" required></textarea></label>
            <button type="submit">Add note</button>
          </form>
          <p class="exports">Export:
            <a href="/incidents/{{i.id}}/export?format=misp" download>MISP event</a> ·
            <a href="/incidents/{{i.id}}/export?format=stix" download>STIX 2.1 bundle</a> ·
            <a href="/incidents/{{i.id}}/export?format=report" download id="export-report">notification report</a></p>
        </section>
        {{/mayChange}}
        <section>
          <h2>Hosts</h2>
          <table><thead><tr><th>Address</th><th>Role</th><th>Constituent</th><th>Type</th><th>Segment</th></tr></thead><tbody>
          {{#hosts}}<tr><td>{{address}}</td><td>{{role}}</td><td>{{constituent}}</td><td>{{type}}</td><td>{{segment}}</td></tr>{{/hosts}}
          </tbody></table>
        </section>
        <section>
          <h2>Timeline</h2>
          <table><thead><tr><th>First seen</th><th>Last seen</th><th>Alerts</th><th>Signature</th><th>Source</th><th>Destination</th></tr></thead><tbody>
          {{#events}}<tr><td>{{firstSeen}}</td><td>{{lastSeen}}</td><td class="num">{{alertCount}}</td><td>[{{gid}}:{{sid}}] {{signature}}</td><td>{{source}}</td><td>{{destination}}</td></tr>{{/events}}
          </tbody></table>
        </section>
        <section>
          <h2>Alerts <span class="count">{{alertTotal}}</span></h2>
          <table class="alerts"><thead><tr><th>Time</th><th>Signature</th><th>Flow</th><th>Proto</th><th>Action</th><th>Sensor</th><th>Evidence</th></tr></thead><tbody>
          {{#alerts}}<tr>
            <td>{{timestamp}}</td>
            <td>[{{gid}}:{{sid}}:{{rev}}] {{signature}}<br><small>{{classtype}} · {{category}} · severity {{severity}} · {{origin}}{{#metadata}} · {{metadata}}{{/metadata}}</small></td>
            <td>{{source}} → {{destination}}</td><td>{{proto}}{{#appProto}} / {{appProto}}{{/appProto}}</td><td>{{action}}</td>
            <td>{{sensor}}</td>
            <td>{{#captureFile}}{{captureFile}}{{/captureFile}}{{#packet}} packet {{packet}}{{/packet}}{{#flowID}}<br><small>flow_id {{flowID}}</small>{{/flowID}}{{#excerpt}}<br><small>payload kept, encrypted</small>{{/excerpt}}</td>
          </tr>{{/alerts}}
          </tbody></table>
          {{#alertsMore}}<p>{{alertsMore}} more alerts: <code>hnsensor incidents show {{i.id}} --format json</code>.</p>{{/alertsMore}}
        </section>
        <section>
          <h2>Audit trail</h2>
          <table id="audit"><thead><tr><th>At</th><th>Who</th><th>What</th><th>Note</th></tr></thead><tbody>
          {{#audit}}<tr><td>{{at}}</td><td>{{actor}}</td><td>{{action}}</td><td>{{note}}</td></tr>{{/audit}}
          </tbody></table>
        </section>
        {{> bottom}}
        """

    static let sensors = """
        {{> top}}
        <h1>Sensors</h1>
        <table><thead><tr><th>Sensor</th><th>Version</th><th>Started</th><th>Signatures</th><th>Indicators</th><th>Correlation rules</th><th>Alerts stored</th><th>Last alert</th></tr></thead><tbody>
        {{#sensors}}<tr><td>{{name}}</td><td>{{version}}</td><td>{{startedAt}}</td><td class="num">{{rules}}</td><td class="num">{{indicators}}</td><td class="num">{{correlationRules}}</td><td class="num">{{alerts}}</td><td>{{lastAlert}}</td></tr>{{/sensors}}
        {{^sensors}}<tr><td colspan="8" class="empty">No sensor has written this store yet.</td></tr>{{/sensors}}
        </tbody></table>
        <p>Store: {{storePath}} · {{incidents}} incidents, {{alerts}} alerts.</p>
        {{> bottom}}
        """

    static let accounts = """
        {{> top}}
        <h1>Accounts</h1>
        {{#message}}<p class="flash">{{message}}</p>{{/message}}
        <table id="accounts"><thead><tr><th>Account</th><th>Role</th><th>State</th><th>Created</th><th>Changed</th><th>Change</th></tr></thead><tbody>
        {{#accounts}}<tr><td>{{name}}</td><td>{{role}}</td><td>{{state}}</td><td>{{createdAt}}</td><td>{{changedAt}}</td>
          <td><form method="post" action="/accounts/{{name}}" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <select name="role">{{#roles}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/roles}}</select>
            <select name="state"><option value="enabled"{{^disabled}} selected{{/disabled}}>enabled</option><option value="disabled"{{#disabled}} selected{{/disabled}}>disabled</option></select>
            <input type="password" name="password" placeholder="new password (optional)" autocomplete="new-password" size="16">
            <button type="submit">Save</button></form></td></tr>{{/accounts}}
        </tbody></table>
        <h2>New account</h2>
        <form method="post" action="/accounts" id="new-account">
          <input type="hidden" name="csrf_token" value="{{who.csrf}}">
          <label>Name <input name="name" required pattern="[a-z0-9._-]{1,64}"></label>
          <label>Role <select name="role"><option>viewer</option><option selected>analyst</option><option>admin</option></select></label>
          <label>Password <input type="password" name="password" required minlength="12" autocomplete="new-password"></label>
          <button type="submit">Create</button>
        </form>
        <h2>Account audit</h2>
        <table><thead><tr><th>At</th><th>Who</th><th>What</th><th>Account</th><th>Note</th></tr></thead><tbody>
        {{#audit}}<tr><td>{{at}}</td><td>{{actor}}</td><td>{{action}}</td><td>{{account}}</td><td>{{note}}</td></tr>{{/audit}}
        </tbody></table>
        {{> bottom}}
        """

    static let error = """
        {{> top}}
        <h1>{{status}} {{reason}}</h1>
        <p class="flash error" role="alert">{{message}}</p>
        <p><a href="/incidents">Back to the incidents</a></p>
        {{> bottom}}
        """

    static let css = """
        :root { --fg: #1d2330; --muted: #5b6475; --line: #d8dce4; --bg: #f6f7f9; --p1: #b00020; --p2: #d35400; --p3: #b7950b; --p4: #4a6d8c; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
        header.bar { display: flex; gap: 1.5em; align-items: center; padding: .5em 1em; background: #1d2330; color: #fff; }
        header.bar a { color: #fff; text-decoration: none; } header.bar a[aria-current] { text-decoration: underline; }
        header.bar nav { display: flex; gap: 1em; flex: 1; } .brand { font-weight: 700; }
        .logout { display: flex; gap: .5em; align-items: center; } .role { color: #9fb0c8; }
        main { padding: 1em 1.5em; }
        h1 { font-size: 1.4em; margin: .2em 0 .6em; } h2 { font-size: 1.1em; margin-top: 1.4em; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { border-bottom: 1px solid var(--line); padding: .3em .5em; text-align: left; vertical-align: top; }
        th { background: #eceff3; font-weight: 600; } td.num { text-align: right; } td.empty { color: var(--muted); text-align: center; }
        tr.selected { outline: 2px solid #2e6bd9; background: #eaf1fe; }
        tr.reportable td:first-child { border-left: 4px solid var(--p2); } tr.overdue td:first-child { border-left-color: var(--p1); }
        .prio { display: inline-block; padding: 0 .4em; border-radius: 3px; color: #fff; font-weight: 700; }
        .prio.p1 { background: var(--p1); } .prio.p2 { background: var(--p2); } .prio.p3 { background: var(--p3); } .prio.p4 { background: var(--p4); }
        .deadline { font-weight: 600; } .deadline.overdue { color: var(--p1); }
        .tabs { display: flex; flex-wrap: wrap; gap: .3em; margin-bottom: .6em; }
        .tabs a { padding: .2em .6em; border: 1px solid var(--line); border-radius: 3px; background: #fff; color: var(--fg); text-decoration: none; }
        .tabs a.current { background: #1d2330; color: #fff; } .count { color: var(--muted); font-weight: 400; }
        .filters { display: flex; flex-wrap: wrap; gap: .6em; align-items: end; margin-bottom: .8em; }
        .flash { padding: .5em .8em; background: #fff8e1; border-left: 4px solid var(--p3); } .flash.error { background: #fdecea; border-color: var(--p1); }
        .summary dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; background: #fff; padding: .8em; margin: 0; }
        .summary dt { color: var(--muted); } .actions form { margin: .4em 0; } form.inline { display: inline-block; margin-right: 1em; }
        .login { max-width: 22em; margin: 4em auto; background: #fff; padding: 1.5em; border: 1px solid var(--line); }
        .login label { display: block; margin: .6em 0; } .login input { width: 100%; }
        .pages { display: flex; gap: 1em; margin: .8em 0; } .hint { color: var(--muted); }
        """

    /// j / k move the selection in the queue, Enter (or o) opens it, as in EveBox.
    static let script = """
        (function () {
          "use strict";
          var rows = [], current = -1;
          function select(i) {
            if (!rows.length) { return; }
            if (current >= 0) { rows[current].classList.remove("selected"); }
            current = Math.max(0, Math.min(rows.length - 1, i));
            rows[current].classList.add("selected");
            rows[current].scrollIntoView({ block: "nearest" });
          }
          document.addEventListener("DOMContentLoaded", function () {
            var table = document.getElementById("queue");
            if (!table) { return; }
            rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]"));
            document.addEventListener("keydown", function (e) {
              var tag = (e.target && e.target.tagName) || "";
              if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) { return; }
              if (e.key === "j") { select(current + 1); e.preventDefault(); }
              else if (e.key === "k") { select(current - 1); e.preventDefault(); }
              else if ((e.key === "Enter" || e.key === "o") && current >= 0) { window.location.href = rows[current].getAttribute("data-href"); e.preventDefault(); }
            });
          });
        })();
        """
}
