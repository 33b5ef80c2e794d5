import { Template } from 'aws-cdk-lib/assertions';
import { MEMBER_BOUNDARY_NAME, MEMBER_LEDGER_TABLE_NAME } from '../../lib/private/organization-contract';
import { memberAgentStack, MEMBER_ACCOUNT, organizationStack, OU_ID } from './org-fixture';

describe('GovernedOrganization', () => {
  const { template, org } = organizationStack();

  test('a service-managed StackSet with automatic deployment targets the OUs and regions', () => {
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: true },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      CallAs: 'SELF',
      StackInstancesGroup: [{ DeploymentTargets: { OrganizationalUnitIds: [OU_ID] }, Regions: ['us-east-1'] }],
    });
  });

  test('the member template carries the sweeper, ledger, named boundary, forwarding and audit role', () => {
    const stackSet = Object.values(template.findResources('AWS::CloudFormation::StackSet'))[0];
    const body = JSON.parse(stackSet.Properties.TemplateBody);
    expect(body).toEqual(org.memberTemplate);
    expect(Buffer.byteLength(stackSet.Properties.TemplateBody)).toBeLessThanOrEqual(51_200);
    const member = Template.fromJSON(body);
    member.hasResourceProperties('AWS::DynamoDB::Table', { TableName: MEMBER_LEDGER_TABLE_NAME });
    member.hasResourceProperties('AWS::IAM::ManagedPolicy', { ManagedPolicyName: MEMBER_BOUNDARY_NAME, Path: '/permission-decay/' });
    member.hasResourceProperties('AWS::IAM::Role', { RoleName: 'permission-decay-audit', Path: '/permission-decay/audit/' });
    member.hasResourceProperties('AWS::Lambda::Function', {
      Code: { S3Bucket: { 'Fn::Sub': 'pd-org-assets-${AWS::Region}' }, S3Key: `${org.assetObjects[0].objectKey}` },
    });
    const forward = Object.values(member.findResources('AWS::Events::Rule')).filter(
      r => r.Properties.EventPattern?.source?.[0] === 'permission-decay',
    );
    expect(forward).toHaveLength(1);
    expect(forward[0].Properties.Targets).toHaveLength(1);
    expect(JSON.stringify(forward[0].Properties.Targets[0].Arn)).toContain(
      ':events:us-east-1:111111111111:event-bus/permission-decay-org-decisions',
    );
    // Nothing in the member template refers to the management account's bootstrap bucket or assets.
    expect(JSON.stringify(body)).not.toContain('cdk-hnb659fds');
    // One code object per function of the member template (the sweeper and the activity recorder), each named by one.
    const functionKeys = Object.values(member.findResources('AWS::Lambda::Function')).map(f => f.Properties.Code.S3Key);
    expect(functionKeys).toHaveLength(2);
    expect(org.assetObjects.map(a => a.objectKey).sort()).toEqual([...new Set(functionKeys)].sort());
    for (const asset of org.assetObjects) expect(asset.objectKey).toMatch(/^permission-decay\/[0-9a-f]{64}\.zip$/);
  });

  test('the StackSet waits for the org-view role and the central bus it names', () => {
    const [id] = Object.keys(template.findResources('AWS::CloudFormation::StackSet'));
    const deps = template.toJSON().Resources[id].DependsOn as string[];
    const roleId = Object.keys(template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'permission-decay-org-view' } }))[0];
    const busId = Object.keys(template.findResources('AWS::Events::EventBus'))[0];
    expect(deps).toEqual(expect.arrayContaining([roleId, busId]));
  });

  test.each([
    [{ organizationId: 'org-1' }, 'organizationId "org-1" is not an organisation id'],
    [{ organizationalUnitIds: [] }, 'organizationalUnitIds is empty'],
    [{ organizationalUnitIds: ['engineering'] }, '"engineering" is not an OU id'],
    [{ region: 'Mars' }, 'region "Mars" is not a region name'],
    [{ assetBucketPrefix: 'Bad_Bucket' }, 'assetBucketPrefix "Bad_Bucket"'],
    [{ sweeper: { ledgerTableName: 'permission-decay-ledger-x' } }, 'sweeper.ledgerTableName cannot be set'],
  ])('refuses %j', (props, message) => {
    expect(() => organizationStack(props as never)).toThrow(message);
  });

  test('refuses a stack without a literal account and region', () => {
    const { App, Stack } = jest.requireActual('aws-cdk-lib');
    const { GovernedOrganization } = jest.requireActual('../../lib');
    const stack = new Stack(new App(), 'Agnostic');
    expect(
      () =>
        new GovernedOrganization(stack, 'Org', {
          organizationId: 'o-abcdefghij',
          organizationalUnitIds: [OU_ID],
          region: 'us-east-1',
          assetBucketPrefix: 'pd',
        }),
    ).toThrow('literal env account and region');
  });
});

describe('GovernedAgentRole in a member account', () => {
  const { template } = memberAgentStack();

  test("uses the account's boundary and deploys neither a boundary nor a sweeper", () => {
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.hasResourceProperties('AWS::IAM::Role', {
      PermissionsBoundary: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${MEMBER_ACCOUNT}:policy/permission-decay/${MEMBER_BOUNDARY_NAME}`]],
      },
      Path: '/permission-decay/agents/',
    });
  });
});
