#!/usr/bin/env python3
"""Grows a CSIRT store to N incidents for the console's load benchmark.

The store must hold incidents replayed from real captures (Benchmarks/console.sh replays the
labelled ones). Each copy of that set gets new ids for its incidents, events, alerts, evidence
and audit entries, its own group keys, related links remapped, and its times moved one hour
earlier per copy, so the queue has N distinct incidents with realistic rows and the same
shape of events and alerts behind each. Then the set is cut to exactly N incidents.

Usage: console-store.py STORE N
"""
import sqlite3
import sys

path, target = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
db.execute("PRAGMA foreign_keys = ON")


def maximum(table, column="id"):
    return db.execute("SELECT COALESCE(MAX(%s), 0) FROM %s" % (column, table)).fetchone()[0]


def columns(table):
    return [r[1] for r in db.execute("PRAGMA table_info(%s)" % table)]


base = db.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
if base == 0:
    sys.exit("console-store.py: %s: no incident to copy" % path)
incidents, events, alerts, audit = maximum("incidents"), maximum("events"), maximum("alerts"), maximum("audit")
hour = 3_600_000_000_000
copies = (target + base - 1) // base


def copy(table, changes, where=""):
    cols = columns(table)
    select = [changes.get(c, c) for c in cols]
    db.execute("INSERT INTO %s (%s) SELECT %s FROM %s %s" % (table, ", ".join(cols), ", ".join(select), table, where))


with db:
    for k in range(1, copies):
        inc, ev, al, au, shift = k * incidents, k * events, k * alerts, k * audit, k * hour
        copy("incidents", {
            "id": "id + %d" % inc, "group_key": "group_key || '#%d'" % k,
            "first_seen": "first_seen - %d" % shift, "last_seen": "last_seen - %d" % shift,
            "report_deadline": "report_deadline - %d" % shift,
            "related": "(SELECT COALESCE(json_group_array(value + %d), '[]') FROM json_each(related))" % inc,
        }, "WHERE id <= %d" % incidents)
        copy("events", {"id": "id + %d" % ev, "first_seen": "first_seen - %d" % shift, "last_seen": "last_seen - %d" % shift},
             "WHERE id <= %d" % events)
        copy("alerts", {"id": "id + %d" % al, "event_id": "event_id + %d" % ev, "timestamp": "timestamp - %d" % shift},
             "WHERE id <= %d" % alerts)
        copy("evidence", {"alert_id": "alert_id + %d" % al}, "WHERE alert_id <= %d" % alerts)
        copy("incident_events", {"incident_id": "incident_id + %d" % inc, "event_id": "event_id + %d" % ev},
             "WHERE incident_id <= %d" % incidents)
        copy("audit", {"id": "id + %d" % au, "incident_id": "incident_id + %d" % inc, "at": "at - %d" % shift},
             "WHERE id <= %d" % audit)
    extra = [r[0] for r in db.execute("SELECT id FROM incidents ORDER BY id DESC LIMIT MAX(0, (SELECT COUNT(*) FROM incidents) - ?)", (target,))]
    db.executemany("DELETE FROM incidents WHERE id = ?", [(i,) for i in extra])
    db.execute("DELETE FROM events WHERE id NOT IN (SELECT event_id FROM incident_events)")
count = db.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
alerts_now = db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
db.execute("VACUUM")
db.close()
print("%s: %d incidents, %d alerts" % (path, count, alerts_now))
