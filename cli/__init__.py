"""Command-line front ends: `ganeval` (metrics) and `pggan` (trainer); a thin layer over the libraries."""
