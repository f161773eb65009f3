"""The hosted kinds' backend (ARO-HCP): control planes on a management cluster, node pools as VM scale
sets, break-glass credentials; the step lists of ``hcpOpenShiftClusters``, ``nodePools`` and
``externalAuths`` (``workflow``)."""
