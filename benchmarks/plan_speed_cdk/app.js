// A peer of `eksgitops plan dev`: an EKS Blueprints cluster with a VPC, one managed spot node
// group, the five core add-ons and Flux syncing a fleet repository, synthesized by `cdk synth`.
const cdk = require('aws-cdk-lib');
const eks = require('aws-cdk-lib/aws-eks');
const ec2 = require('aws-cdk-lib/aws-ec2');
const blueprints = require('@aws-quickstart/eks-blueprints');

const app = new cdk.App();
const version = eks.KubernetesVersion.V1_32;
const clusterProvider = new blueprints.MngClusterProvider({
  version,
  minSize: 1,
  desiredSize: 2,
  maxSize: 3,
  instanceTypes: [new ec2.InstanceType('m6i.large'), new ec2.InstanceType('m6a.large')],
  nodeGroupCapacityType: eks.CapacityType.SPOT,
  diskSize: 50,
});
blueprints.EksBlueprint.builder()
  .account('111122223333')
  .region('eu-west-1')
  .version(version)
  .clusterProvider(clusterProvider)
  .addOns(
    new blueprints.addons.VpcCniAddOn({ version: 'v1.19.2-eksbuild.1' }),
    new blueprints.addons.CoreDnsAddOn('v1.11.4-eksbuild.2'),
    new blueprints.addons.KubeProxyAddOn('v1.32.0-eksbuild.2'),
    new blueprints.addons.EbsCsiDriverAddOn({ version: 'v1.38.1-eksbuild.1' }),
    new blueprints.addons.EksPodIdentityAgentAddOn('v1.3.4-eksbuild.1'),
    new blueprints.addons.FluxCDAddOn({
      repositories: [{
        name: 'fleet',
        namespace: 'flux-system',
        repository: { repoUrl: 'https://github.com/example/fleet.git', name: 'fleet', targetRevision: 'main', path: './clusters/dev' },
        values: {},
        kustomizations: [{ kustomizationPath: './clusters/dev' }],
      }],
    }),
  )
  .build(app, 'eksgitops-dev');
