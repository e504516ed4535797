"""nbgrader, as mlkata drives it: autograde without the warnings that every hidden-check cell
raises by design, and with every warning that means something.

nbgrader warns ``Attribute 'checksum' for cell ... has changed!`` whenever a locked cell of a
submission differs from the source notebook.  A released hidden-check cell always differs: the
release leaves out its hidden region (that is the point), so every autograde printed one warning
per hidden cell (366 on one assignment), which drowned the warnings that matter -- a student who
edited a visible check, a locked cell or a hidden cell's placeholder.  :class:`OverwriteCells`
stays silent only where the submitted cell is exactly the released version of a hidden-test cell;
every other change is still reported (tested), and nbgrader restores the source cell as before.
"""
from __future__ import annotations

from nbgrader.converters import Autograde
from nbgrader.preprocessors import OverwriteCells as _NbgraderOverwriteCells

from .course import HIDDEN_BEGIN, HIDDEN_END


def released_source(source: str) -> str:
    """A cell's source as ``nbgrader generate_assignment`` releases it: hidden regions, markers
    included, left out (what nbgrader's ClearHiddenTests does)."""
    kept, inside = [], False
    for line in source.split("\n"):
        if HIDDEN_BEGIN in line:
            inside = True
        elif HIDDEN_END in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


class OverwriteCells(_NbgraderOverwriteCells):
    """nbgrader's OverwriteCells, quiet about the one change a release makes on purpose."""

    def preprocess_cell(self, cell, resources, cell_index):
        self._submitted = cell           # report_change is called with names only
        return super().preprocess_cell(cell, resources, cell_index)

    def report_change(self, name, attr, old, new) -> None:
        if attr == "checksum" and self._released_hidden_cell(name):
            return
        super().report_change(name, attr, old, new)

    def _released_hidden_cell(self, grade_id: str) -> bool:
        source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id).source
        return HIDDEN_BEGIN in source and self._submitted.source == released_source(source)


def configure(config) -> None:
    """Have ``config``'s autograde use :class:`OverwriteCells` in place of nbgrader's."""
    default = Autograde.class_traits()["sanitize_preprocessors"].default()
    config.Autograde.sanitize_preprocessors = [OverwriteCells if p is _NbgraderOverwriteCells else p
                                               for p in default]
