"""mlkata build: each step on small inputs, and --check catching stale and hand-edited files."""
import shutil

import pytest

from mlkata import build, catalog
from helpers import ROOT

REFERENCE = '''"""Doc."""
import torch


def f(x):
    """Contract."""
    ### BEGIN SOLUTION
    y = x + 1
    return y
    ### END SOLUTION


class M:
    def g(self):
        ### BEGIN SOLUTION
        return 2
        ### END SOLUTION
'''


def test_solution_regions_name_their_enclosing_function():
    regions = build.solution_regions(REFERENCE.splitlines(), "ref.py")
    assert [(r.function, r.indent) for r in regions] == [("f", "    "), ("g", "        ")]


@pytest.mark.parametrize("broken,complaint", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    ### END SOLUTION\n", "without"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n", "empty"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    x\n    ### END SOLUTION\n", "nested"),
    ("def f():\n    return 1\n", "no solution region"),
])
def test_malformed_markers_are_reported_with_their_line(broken, complaint):
    with pytest.raises(build.BuildError, match=complaint):
        build.solution_regions(broken.splitlines(), "ref.py")


@pytest.fixture
def repo_copy(tmp_path):
    """A copy of the authored and generated files, to build in."""
    for d in ("catalog", "graders", "exercises", "solutions", "source", "release", "docs"):
        shutil.copytree(ROOT / d, tmp_path / d)
    # the quality figures are fingerprinted with the variants and twin tests they were measured on
    shutil.copytree(ROOT / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / build.MANIFEST, tmp_path / build.MANIFEST)
    return tmp_path


def test_stub_and_solution_differ_only_in_bodies(repo_copy):
    ex = next(iter(catalog.load(repo_copy).values()))
    stub = ex.stub.read_text()
    solution = ex.solution.read_text()
    assert "### BEGIN SOLUTION" not in stub + solution
    assert "raise NotImplementedError" in stub and "YOUR CODE HERE" in stub
    defs = lambda text: [line.strip() for line in text.splitlines() if line.strip().startswith(("def ", "class "))]
    assert defs(stub) == defs(solution)


def test_check_reports_hand_edits_and_build_keeps_them(repo_copy):
    assert build.stale(repo_copy) == []
    ex = next(iter(catalog.load(repo_copy).values()))
    ex.stub.write_text(ex.stub.read_text() + "# my work\n")
    assert build.stale(repo_copy) == [f"edited by hand: {ex.stub.relative_to(repo_copy)}"]
    written, kept = build.write(repo_copy)
    assert kept == [str(ex.stub.relative_to(repo_copy))] and "# my work" in ex.stub.read_text()
    build.write(repo_copy, force=True)
    assert build.stale(repo_copy) == []


def test_check_reports_stale_files_after_an_authored_change(repo_copy):
    ex = next(iter(catalog.load(repo_copy).values()))
    ex.reference_source.write_text(ex.reference_source.read_text().replace('"""', '"""Changed. ', 1))
    problems = build.stale(repo_copy)
    assert f"stale: {ex.stub.relative_to(repo_copy)}" in problems
    assert f"stale: {ex.solution.relative_to(repo_copy)}" in problems
    written, kept = build.write(repo_copy)
    # the source notebook changed too, so the nbgrader release is now older than its source; and
    # the published quality figures were measured on the old reference
    remaining = build.stale(repo_copy)
    assert kept == [] and f"stale: release/{ex.assignment} (run `mlkata release`)" in remaining
    assert [p for p in remaining if "release/" not in p] == [
        p for p in remaining if p.startswith(f"quality figures stale: {ex.id} ")]
    assert len(remaining) == 2


def test_a_module_level_solution_region_is_refused():
    with pytest.raises(build.BuildError, match="module level"):
        build.solution_regions(["### BEGIN SOLUTION", "X = 1", "### END SOLUTION"], "ref.py")


GIVEN_REFERENCE = '''"""Doc."""


def f(x):
    """Contract: x + 1."""
    y = 2 * x
    ### BEGIN SOLUTION
    return x + 1
    ### GIVEN CODE
    # return y + 1  # broken on purpose
    ### END SOLUTION


def g(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION
'''


def test_given_code_replaces_the_stub_of_its_region_and_leaves_the_solution():
    lines = GIVEN_REFERENCE.splitlines()
    first, second = build.solution_regions(lines, "ref.py")
    assert first.given is not None and second.given is None
    assert first.given_code(lines) == ["    return y + 1  # broken on purpose"]
    assert build.without_markers(lines, "ref.py") == [line for line in lines if "###" not in line and
                                                      "broken on purpose" not in line]
    code, for_nbgrader = build.notebook_code(lines, "ref.py")
    assert "    return y + 1  # broken on purpose" in code.splitlines() and for_nbgrader   # g's region is left
    given_only = "\n".join(lines[:12])                                  # f alone: nothing left for nbgrader
    assert build.notebook_code(given_only.splitlines(), "ref.py")[1] is False


@pytest.mark.parametrize("broken,complaint", [
    ("def f():\n    ### GIVEN CODE\n    # x\n", "outside a solution region"),
    ("def f():\n    ### BEGIN SOLUTION\n    x\n    ### GIVEN CODE\n    ### END SOLUTION\n", "no given code"),
    ("def f():\n    ### BEGIN SOLUTION\n    x\n    ### GIVEN CODE\n    return 1\n    ### END SOLUTION\n",
     "must be commented out"),
    ("def f():\n    ### BEGIN SOLUTION\n    x\n    ### GIVEN CODE\n    # a\n    ### GIVEN CODE\n    # b\n"
     "    ### END SOLUTION\n", "twice"),
])
def test_malformed_given_code_is_reported(broken, complaint):
    with pytest.raises(build.BuildError, match=complaint):
        build.solution_regions(broken.splitlines(), "ref.py")


def test_a_debugging_exercise_ships_the_broken_code(repo_copy):
    """Every exercise whose reference gives code: the stub holds that code uncommented (no
    NotImplementedError where it stood), the solution none of it, and the notebook's code cell is
    a plain editable cell marked as given (nbgrader would clear a solution cell without regions)."""
    import nbformat
    given = [ex for ex in catalog.load(repo_copy).values() if build.gives_code(ex)]
    assert given, "no exercise gives code to fix"
    for ex in given:
        lines = ex.reference_source.read_text().splitlines()
        stub, solution = ex.stub.read_text(), ex.solution.read_text()
        for r in build.solution_regions(lines, ex.id):
            if r.given is not None:
                assert all(line in stub for line in r.given_code(lines) if line.strip())
                assert not any(line.strip() in solution for line in r.given_code(lines) if line.strip())
        assert "### GIVEN CODE" not in stub + solution and "bugs" in stub.splitlines()[11]
        nb = nbformat.read(ex.notebook, as_version=4)
        cell = next(c for c in nb.cells if c.id == f"{ex.name}-solution".replace("_", "-"))
        assert cell.metadata.get("mlkata", {}).get("given") and "nbgrader" not in cell.metadata
        assert cell.source.strip() in stub
