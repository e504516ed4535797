# nbgrader configuration of the mlkata course: the repository root is the course directory
# (source/<assignment>/ is built by `mlkata build`, release/<assignment>/ by `mlkata release`).
c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "mlkata"
# Stubs exactly as mlkata's .py exercises: a comment and an exception, never `pass`.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Checks are fast; a hung learner cell must not stall a class.
c.ExecutePreprocessor.timeout = 120
# The hidden cells call the graders by id, so they re-insert no grader code into feedback.
c.ClearHiddenTests.begin_hidden_tests_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_hidden_tests_delimeter = "END HIDDEN TESTS"
