"""Measuring what a GAN draws: a shipped digit classifier and the scores built on it.

    from minigan import metrics

    probs, feats = metrics.classifier_outputs(fake_images)     # images in [-1, 1], (N, 1, 28, 28)
    real_probs, real_feats = metrics.classifier_outputs(real_images)
    metrics.classifier_score(probs)                 # ClassifierScore(mean, std): the IS formula
    metrics.kl_to_uniform(metrics.class_histogram(probs))   # 0 when every digit is drawn equally often
    metrics.frechet_distance(feats, real_feats)     # FID's formula in the classifier's features
    metrics.kernel_distance(feats, real_feats)      # KernelDistance(mean, std_error): KID
    metrics.precision_recall(real_feats, feats)     # PrecisionRecall(precision, recall)
    metrics.mode_coverage(points, centres, std)     # Coverage(modes, high_quality), the 2-D toys
    metrics.code_class_match(code_values, metrics.classifier_probs(images).argmax(1))  # InfoGAN's codes
    report = metrics.digit_report(fake_images, real_images)   # all of the above at once, as a dict
    print("\n".join(metrics.report_lines(report)))           # ... each number with what it measures

Read in this order: ``classifier.py`` (the judge and its shipped weights, whose held-out accuracy
``classifier_info()`` returns), ``scores.py`` (each score's formula and what it misses),
``toy.py`` (VEEGAN's mode counts), ``report.py`` (every digit score at once, each explained). ``tools/train_classifier.py`` trains the judge.
"""
from .classifier import (DigitClassifier, classifier_features, classifier_info, classifier_outputs, classifier_probs,
                         load_classifier)
from .scores import (ClassifierScore, CodeMatch, KernelDistance, PrecisionRecall, class_histogram, classifier_score,
                     code_class_match, frechet_distance, frechet_distance_gaussians, gaussian_fit, kernel_distance, kl_to_uniform,
                     mmd2_unbiased, precision_recall, sqrtm_psd)
from .report import EXPLAIN, describe, digit_report, report_lines
from .toy import Coverage, mode_coverage

__all__ = [
    "DigitClassifier", "load_classifier", "classifier_info", "classifier_outputs", "classifier_probs",
    "classifier_features",
    "classifier_score", "ClassifierScore", "class_histogram", "kl_to_uniform",
    "frechet_distance", "frechet_distance_gaussians", "gaussian_fit", "sqrtm_psd",
    "kernel_distance", "KernelDistance", "mmd2_unbiased",
    "precision_recall", "PrecisionRecall",
    "mode_coverage", "Coverage", "code_class_match", "CodeMatch",
    "digit_report", "report_lines", "describe", "EXPLAIN",
]
