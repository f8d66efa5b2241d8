"""The Canvas gradebook import CSV (autograder/canvas.py) against Canvas's column rules.

Rules checked (Canvas Instructor Guide, "How do I import grades in the
Gradebook?"): the first five columns are exactly Student, ID, SIS User ID,
SIS Login ID, Section; assignment columns are headed "<name> (<id>)" when the
Canvas id is known; row 2 is "Points Possible" with the points; one row per
student, numbers only in score cells; every student identifiable (ID, SIS
User ID or SIS Login ID not all empty). A gradebook made with nbgrader's API
goes through `python -m autograder report --canvas`.
"""
import csv
import os
import re
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from autograder import canvas
from course_tools import BIN

IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def rows_for(scores, max_score):
    return [{"student_id": s, "lms_user_id": "", "assignment": a, "score": v, "max_score": max_score[a]}
            for (s, a), v in scores.items()]


def check_canvas_rules(path, assignments, with_ids):
    """Parse the CSV as Canvas would and check its rules; return (header, data rows)."""
    with open(path, newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    header, points, data = table[0], table[1], table[2:]
    assert header[:5] == IDENTITY
    assert len(header) == 5 + len(assignments)
    for h, a in zip(header[5:], assignments):
        if with_ids:
            m = re.fullmatch(r"(.+) \((\d+)\)", h)
            assert m and m[1] == a, h
        else:
            assert h == a
    assert points[0] == "Points Possible" and points[1:5] == ["", "", "", ""]
    assert all(float(p) > 0 for p in points[5:])
    for row in data:
        assert len(row) == len(header)
        assert any(row[1:4]), f"unidentifiable student row {row}"
        for cell, maximum in zip(row[5:], points[5:]):
            assert 0 <= float(cell) <= float(maximum)
    return header, data


def test_without_roster(tmp_path):
    rows = rows_for({("bob", "01_unrolling"): 2.5, ("bob", "02_bptt"): 0.0, ("ann", "01_unrolling"): 6.0,
                     ("ann", "02_bptt"): 7.25}, {"01_unrolling": 6.0, "02_bptt": 9.0})
    students = {"ann": {"first_name": "Ann", "last_name": "O'Neil, Jr.", "lms_user_id": "1234"},
                "bob": {"first_name": None, "last_name": None, "lms_user_id": None}}
    header, points, out, problems = canvas.canvas_table(rows, students, assignment_ids={"01_unrolling": "77"})
    path = tmp_path / "canvas.csv"
    canvas.write_canvas_csv(path, header, points, out)
    with open(path, newline="") as fh:
        assert next(csv.reader(fh))[5:] == ["01_unrolling (77)", "02_bptt"]
    # 02_bptt has no id: Canvas would create it; that is said
    assert any("02_bptt" in p for p in problems)
    header, points, out, _ = canvas.canvas_table(rows, students, assignment_ids={"01_unrolling": "77",
                                                                                 "02_bptt": "78"})
    canvas.write_canvas_csv(path, header, points, out)
    _, data = check_canvas_rules(path, ["01_unrolling", "02_bptt"], with_ids=True)
    assert data == [["O'Neil, Jr., Ann", "1234", "", "ann", "", "6", "7.25"],
                    ["bob", "", "", "bob", "", "2.5", "0"]]


def test_with_canvas_roster(tmp_path):
    roster = tmp_path / "export.csv"
    roster.write_text(
        "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,01_unrolling (501),Homework 9 (502),Current Score\n"
        "    Points Possible,,,,,6,10,(read only)\n"
        "\"Doe, Ann\",11,S-1,ann,Sec A,,,\n"
        "\"Roe, Bob\",12,S-2,bob_h,Sec B,,,\n"
        "\"Student, Test\",99,,,Sec A,,,\n", encoding="utf-8")
    rows = rows_for({("ann", "01_unrolling"): 5.5, ("bob", "01_unrolling"): 3.0, ("eve", "01_unrolling"): 6.0},
                    {"01_unrolling": 6.0})
    students = {"ann": {"lms_user_id": ""}, "bob": {"lms_user_id": "12"}, "eve": {"lms_user_id": ""}}
    header, points, out, problems = canvas.canvas_table(rows, students, canvas.read_roster(roster))
    path = tmp_path / "canvas.csv"
    canvas.write_canvas_csv(path, header, points, out)
    _, data = check_canvas_rules(path, ["01_unrolling"], with_ids=True)
    assert data == [["Doe, Ann", "11", "S-1", "ann", "Sec A", "5.5"],
                    ["Roe, Bob", "12", "S-2", "bob_h", "Sec B", "3"]]
    assert len(problems) == 1 and problems[0].startswith("eve: no matching student")


def test_not_a_canvas_export(tmp_path):
    bad = tmp_path / "grades.csv"
    bad.write_text("student_id,score\nann,3\n")
    with pytest.raises(ValueError, match="not a Canvas gradebook export"):
        canvas.read_roster(bad)


def test_report_command_writes_canvas_csv(tmp_path, monkeypatch):
    """From an nbgrader gradebook (made with its API) through `python -m autograder report --canvas`."""
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")   # nbgrader runs alembic
    course = tmp_path / "course"
    (course / "source" / "a1").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.add_assignment("a1")
        gb.add_notebook("nb", "a1")
        gb.add_grade_cell("f_test", "nb", "a1", max_score=4.0, cell_type="code")
        gb.add_student("ann", first_name="Ann", last_name="Doe", lms_user_id="11")
        gb.add_student("bob")
        gb.add_submission("a1", "ann")
        grade = gb.find_grade("f_test", "nb", "a1", "ann")
        grade.auto_score = 3.5
        gb.db.commit()
    out = tmp_path / "canvas.csv"
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), "report", "a1",
                          "--canvas", str(out), "--canvas-id", "a1=900"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "2 student row(s)" in run.stdout
    _, data = check_canvas_rules(out, ["a1"], with_ids=True)
    assert data == [["Doe, Ann", "11", "", "ann", "", "3.5"], ["bob", "", "", "bob", "", "0"]]
    bad = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), "report", "a1",
                          "--canvas", str(out), "--canvas-id", "a1"], capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "ASSIGNMENT=NUMBER" in bad.stderr
