"""The step engine every resource type's backend runs on: steps with explicit ids (``engine``), what an
exception out of a step means (``outcomes``), and a kind's step lists as data (``workflow``)."""

from aro.steps.engine import Action, Condition, Finished, Progress, Step, StepObserver, Stopping, run_steps
from aro.steps.outcomes import Outcome, TemporaryError, classify
from aro.steps.workflow import ContextFactory, Mutation, Pause, Saver, StepEnv, Target, Timeouts, Workflow

__all__ = [
    "Action",
    "Condition",
    "ContextFactory",
    "Finished",
    "Mutation",
    "Outcome",
    "Pause",
    "Progress",
    "Saver",
    "Step",
    "StepEnv",
    "StepObserver",
    "Stopping",
    "Target",
    "TemporaryError",
    "Timeouts",
    "Workflow",
    "classify",
    "run_steps",
]
