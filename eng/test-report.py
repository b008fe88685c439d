#!/usr/bin/env python3
"""Summarises test results for eng/test.sh's quiet output.

  test-report.py trx FILE...   one line "P passed, F failed, S skipped", then each failed test with its message
  test-report.py tap FILE      the same for a node --test TAP file (failed tests with their error lines)

Counts follow eng/test.sh's totals: a skipped xunit test is in "total" but not in "executed".
"""
import re
import sys
import xml.etree.ElementTree as ElementTree

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
MAX_MESSAGE_LINES = 12


def indent(text, prefix="      "):
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    if len(lines) > MAX_MESSAGE_LINES:
        lines = lines[:MAX_MESSAGE_LINES] + [f"... ({len(lines) - MAX_MESSAGE_LINES} more lines in the log)"]
    return "\n".join(prefix + line for line in lines)


def trx(paths):
    passed = failed = skipped = 0
    failures = []
    for path in paths:
        root = ElementTree.parse(path).getroot()
        counters = root.find("t:ResultSummary/t:Counters", NS)
        if counters is not None:
            number = lambda name: int(counters.get(name, "0"))
            passed += number("passed")
            failed += number("failed") + number("error") + number("timeout") + number("aborted")
            skipped += number("total") - number("executed")
        for result in root.iterfind(".//t:UnitTestResult", NS):
            if result.get("outcome") not in ("Failed", "Error", "Timeout", "Aborted"):
                continue
            message = result.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=NS)
            failures.append((result.get("testName", "?"), message))
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    for name, message in failures:
        print(f"    FAILED {name}")
        if message:
            print(indent(message))


def tap(path):
    counts = {}
    failures = []
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    for index, line in enumerate(lines):
        summary = re.match(r"^# (pass|fail|cancelled|skipped|todo) (\d+)$", line)
        if summary:
            counts[summary.group(1)] = int(summary.group(2))
            continue
        failure = re.match(r"^(\s*)not ok \d+ - (.*)$", line)
        if failure:
            # The YAML block below a failed test holds its error; a failing suite repeats its children's, so only
            # leaf tests (those whose block names an error) are listed.
            block = []
            for follower in lines[index + 1:]:
                if re.match(r"^\s*(not )?ok \d+ ", follower) or follower.strip() == "...":
                    break
                block.append(follower)
            error = [b.strip() for b in block if b.strip().startswith(("error:", "message:", "expected:", "actual:"))]
            if "failureType: 'subtestsFailed'" not in "\n".join(block):
                failures.append((failure.group(2), "\n".join(error)))
    passed = counts.get("pass", 0)
    failed = counts.get("fail", 0) + counts.get("cancelled", 0)
    skipped = counts.get("skipped", 0) + counts.get("todo", 0)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    for name, error in failures:
        print(f"    FAILED {name}")
        if error:
            print(indent(error))


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("trx", "tap"):
        sys.exit(__doc__)
    if sys.argv[1] == "trx":
        trx(sys.argv[2:])
    else:
        tap(sys.argv[2])
