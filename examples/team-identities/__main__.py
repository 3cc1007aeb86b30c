"""A team's own Pulumi program that imports eksgitops components.

It reads the cluster's identity facts from the eksgitops stack (a StackReference), then
gives two of the team's service accounts AWS access: one through Pod Identity, one
through IRSA. Run it like any Pulumi program: `pulumi up` in this folder.
"""

import pulumi

from eksgitops.components.iam_documents import role_name_for
from eksgitops.components.irsa_role import IrsaRole, IrsaRoleArgs
from eksgitops.components.pod_identity_role import PodIdentityRole, PodIdentityRoleArgs

config = pulumi.Config()
platform = pulumi.StackReference(config.require("clusterStack"))
cluster_name = platform.require_output("clusterName")

reports = PodIdentityRole(
    "reports",
    PodIdentityRoleArgs(
        role_name=role_name_for("team-a", "reports"),
        cluster_name=cluster_name,
        namespace="team-a",
        service_account="reports",
        managed_policy_arns=["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
    ),
)

queue_worker = IrsaRole(
    "queue-worker",
    IrsaRoleArgs(
        role_name=role_name_for("team-a", "queue-worker"),
        oidc_provider_arn=platform.require_output("oidcProviderArn"),
        oidc_issuer=platform.require_output("oidcIssuerUrl"),
        namespace="team-a",
        service_account="queue-worker",
        inline_policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    "Resource": "arn:aws:sqs:*:*:team-a-*",
                }
            ],
        },
    ),
)

pulumi.export("reportsRoleArn", reports.role_arn)
pulumi.export("queueWorkerRoleArn", queue_worker.role_arn)
