"""nirdag.explanations: per-wavelength importance of a run's refit chain (coefficients, VIP, permutation on the CV
folds, SHAP), written to the ``explanations`` table."""

from nirdag.explanations.errors import ExplainError
from nirdag.explanations.explain import METHODS, ExplainOptions, Explanation, explain

__all__ = ["METHODS", "ExplainError", "ExplainOptions", "Explanation", "explain"]
