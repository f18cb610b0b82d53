"""The built-in metrics, one module each (`base` defines what a metric is). `ganeval.registry` imports every module
here, and each registers its metric with `@register_metric`: adding a metric is adding a module."""
