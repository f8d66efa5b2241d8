"""The grades as a Canvas gradebook import CSV (Grades > Import in Canvas).

Canvas's import rules (Canvas Instructor Guide, "How do I import grades in
the Gradebook?"; the same layout as its gradebook export):
- the first five columns are `Student`, `ID`, `SIS User ID`, `SIS Login ID`,
  `Section`, in that order; Canvas finds each student by `ID` (the Canvas user
  id), else `SIS User ID`, else `SIS Login ID`; `Student` is "Last, First";
- then one column per assignment, headed `<name> (<Canvas assignment id>)`; a
  column without an id makes Canvas create a new assignment of that name;
- the second row is `Points Possible` with each assignment's points under it;
- one row per student, scores as plain numbers (an empty cell changes nothing).

Where the ids come from. nbgrader's `Student.lms_user_id` is the Canvas user
id (`ID`) and the nbgrader student id is taken as the `SIS Login ID` (a hub's
login name). Better: pass Canvas's own gradebook export as `roster`: every
student is then matched to its row there (by Canvas ID, SIS Login ID or SIS
User ID), its five columns are copied from Canvas, and each assignment column
gets the Canvas id of the column of the same name. Students who cannot be
matched are returned as problems, never written under a guessed identity.
"""
import csv
import re

IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_ROW = "Points Possible"
ASSIGNMENT_HEADER = re.compile(r"^(?P<name>.*\S)\s+\((?P<id>\d+)\)$")


def read_roster(path):
    """Canvas's gradebook export: (rows with the five identity columns, {assignment name: Canvas id})."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header or [h.strip() for h in header[:len(IDENTITY)]] != list(IDENTITY):
            raise ValueError(f"{path} is not a Canvas gradebook export: its first columns must be "
                             f"{', '.join(IDENTITY)}; found {header[:len(IDENTITY)] if header else 'nothing'}")
        ids = {}
        for h in header[len(IDENTITY):]:
            m = ASSIGNMENT_HEADER.match(h.strip())
            if m:
                ids[m["name"]] = m["id"]
        rows = []
        for row in reader:
            first = (row[0] if row else "").strip()
            if not row or first == POINTS_ROW or first == "Test Student" or not any(row[1:4]):
                continue                  # the points row, Canvas's test student, muted/read-only lines
            rows.append(dict(zip(IDENTITY, (row + [""] * len(IDENTITY))[:len(IDENTITY)])))
    return rows, ids


def _name(student):
    last, first = (student.get("last_name") or "").strip(), (student.get("first_name") or "").strip()
    return f"{last}, {first}" if last and first else (last or first or student["student_id"])


def canvas_table(rows, students, roster=None, assignment_ids=None):
    """(header, points row, student rows, problems) of the import CSV.

    rows: report.grade_rows output (student_id, lms_user_id, assignment, score, max_score, ...);
    students: {student_id: {"first_name", "last_name", "lms_user_id"}}; roster: read_roster(...) or None;
    assignment_ids: {assignment: Canvas id} (overrides the roster's).
    """
    assignments = list(dict.fromkeys(r["assignment"] for r in rows))
    roster_rows, roster_ids = roster or ([], {})
    ids = {**roster_ids, **(assignment_ids or {})}
    header = list(IDENTITY) + [f"{a} ({ids[a]})" if a in ids else a for a in assignments]
    max_score = {r["assignment"]: r["max_score"] for r in rows}
    points = [POINTS_ROW, "", "", "", ""] + [_number(max_score[a]) for a in assignments]
    scores = {}
    for r in rows:
        scores.setdefault(r["student_id"], {})[r["assignment"]] = r["score"]
    out, problems = [], []
    for sid in sorted(scores):
        info = students.get(sid, {})
        lms = (info.get("lms_user_id") or "").strip()
        if roster is not None:
            match = [c for c in roster_rows if (lms and c["ID"].strip() == lms) or c["SIS Login ID"].strip() == sid
                     or c["SIS User ID"].strip() == sid]
            if len(match) != 1:
                problems.append(f"{sid}: {'no' if not match else len(match)} matching student(s) in the Canvas "
                                "roster (by ID = lms_user_id, SIS Login ID or SIS User ID); left out")
                continue
            identity = [match[0][k] for k in IDENTITY]
        else:
            identity = [_name({**info, "student_id": sid}), lms, "", sid, ""]
        out.append(identity + [_number(scores[sid].get(a, 0.0)) for a in assignments])
    new = [a for a in assignments if a not in ids]
    if new:
        problems.append("no Canvas assignment id for " + ", ".join(new) + ": Canvas will create new assignments "
                        "of these names (pass Canvas's gradebook export as roster, or --canvas-id, to fill yours)")
    return header, points, out, problems


def _number(x):
    return f"{float(x):.2f}".rstrip("0").rstrip(".")


def write_canvas_csv(path, header, points, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerow(points)
        writer.writerows(rows)


def export_canvas(db_url, assignments, path, roster_path=None, assignment_ids=None):
    """Write the Canvas import CSV of `assignments` from the nbgrader gradebook; return (rows, problems)."""
    from nbgrader.api import Gradebook
    from .report import grade_rows
    rows = grade_rows(db_url, assignments)
    with Gradebook(db_url) as gb:
        students = {s.id: {"first_name": s.first_name, "last_name": s.last_name, "lms_user_id": s.lms_user_id}
                    for s in gb.students}
    roster = read_roster(roster_path) if roster_path else None
    header, points, out, problems = canvas_table(rows, students, roster, assignment_ids)
    write_canvas_csv(path, header, points, out)
    return out, problems
