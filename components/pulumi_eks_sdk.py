"""pulumi-eks, imported without its import-time DeprecationWarning about its `NodeGroup`.

`pulumi_eks/node_group.py` warns, as it is imported, that the self-managed `NodeGroup` uses EC2
launch configurations. eksgitops never uses that class (only `Cluster` and `ManagedNodeGroup`),
so the warning speaks of nothing a user of the components does, yet it reached every test run
and every `python -W default` of a program that imports them. Only that one message is
silenced, only while the SDK loads; a program that uses `eks.NodeGroup` itself still sees it
when it makes one.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=r"NodeGroup uses AWS EC2 LaunchConfiguration", category=DeprecationWarning
    )
    import pulumi_eks as eks
    import pulumi_eks.node_group  # noqa: F401 - loaded here, inside the filter, not lazily later

__all__ = ["eks"]
