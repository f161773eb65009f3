"""ARO-HCP's hosted clusters: the hub models of ``hcpOpenShiftClusters``, their ``nodePools`` and
``externalAuths``, the versions and operator-identity role-set catalogs, and the field rules every
api-version shares (``clusterrules``, ``nodepoolrules``, ``externalauthrules``). Version packages
(``v20261001``) convert to and from these models.
"""
