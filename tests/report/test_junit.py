import xml.etree.ElementTree as ET

from joblint.report import junit

from ._findings import context, made, project_findings


def test_one_failed_testcase_per_finding(tmp_path):
    root = ET.fromstring(junit.render(project_findings(tmp_path), context(tmp_path)))
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "2"
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "proj/app.py" and suite.get("failures") == "2"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "CEL101 pickle-serializer at 4:33",
        "CEL104 soft-time-limit-not-below-hard at 6:33",
    ]
    assert cases[0].get("classname") == "proj/app.py" and cases[0].get("line") == "4"
    failure = cases[0].find("failure")
    assert failure.get("type") == "CEL101"
    assert failure.text.startswith("proj/app.py:4:33: CEL101 serializer 'pickle'")


def test_xml_special_characters_are_escaped(tmp_path):
    text = junit.render([made(message='a <b> & "c"')], context(tmp_path))
    failure = ET.fromstring(text).find("testsuite/testcase/failure")
    assert failure.get("message") == 'a <b> & "c"'


def test_no_findings_is_one_passing_testcase(tmp_path):
    root = ET.fromstring(junit.render([], context(tmp_path)))
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 1 and cases[0].find("failure") is None
    assert root.get("failures") == "0"


def test_a_finding_without_a_line(tmp_path):
    from ._findings import without_line

    case = ET.fromstring(junit.render([without_line()], context(tmp_path))).find("testsuite/testcase")
    assert case.get("name") == "CEL101 pickle-serializer" and case.get("line") is None
    assert case.find("failure").text == "celery:proj.celery:app: CEL101 task_serializer is 'pickle'"
