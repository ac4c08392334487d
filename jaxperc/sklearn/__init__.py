"""scikit-learn classifiers over :func:`jaxperc.training.train_many`.

- :class:`PerceptronClassifier` (``classifier.py``): one perceptron for two
  classes, K one-vs-rest perceptrons for K, all in one compiled call.
- :class:`PerceptronClassifierCV` (``cv.py``): its L2 penalty chosen by k-fold
  cross-validation, every fold and refit in one compiled call.

What they share (tags, checks, predictions, the ``train_many`` call) is in
``_base.py``; the host-side work around ``train_many`` (scaling, weights,
padding, scikit-learn's errors) in ``_fit.py``; the fold columns and held-out
scores of the CV estimator in ``_folds.py``.

scikit-learn is an optional dependency: ``import jaxperc`` never imports this
package; ``import jaxperc.sklearn`` does (``pip install jaxperc[sklearn]``).
"""

from jaxperc.sklearn.classifier import PerceptronClassifier
from jaxperc.sklearn.cv import PerceptronClassifierCV

__all__ = ["PerceptronClassifier", "PerceptronClassifierCV"]
