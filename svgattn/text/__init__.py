"""Fonts and text metrics: resolve families to files, measure labels with those files."""
