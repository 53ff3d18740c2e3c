"""Heal check plugins. Importing this package registers the built-in detectors."""

from sanitas.heal.detectors.base import (
    CHECKS,
    REGISTRY,
    Detector,
    DetectorContext,
    DetectorResult,
    SkipCheck,
    get_detector,
    register,
)
from sanitas.heal.detectors.injection import InjectionDetector
from sanitas.heal.detectors.mislabeled import MislabeledDetector
from sanitas.heal.detectors.off_topic import OffTopicDetector
from sanitas.heal.detectors.outlier import OutlierDetector
from sanitas.heal.detectors.poisoned import PoisonedDetector
from sanitas.heal.detectors.sensitive import SensitiveDetector

__all__ = [
    "CHECKS",
    "REGISTRY",
    "Detector",
    "DetectorContext",
    "DetectorResult",
    "InjectionDetector",
    "MislabeledDetector",
    "OffTopicDetector",
    "OutlierDetector",
    "PoisonedDetector",
    "SensitiveDetector",
    "SkipCheck",
    "get_detector",
    "register",
]
