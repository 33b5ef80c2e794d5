import { Duration, Lazy, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { GRANT_NAME_MAX_LENGTH } from '../../lib/contract';
import { grantOptions, newAgent, newStack, readStatement } from './fixtures';

/** Literal bad input throws at once; the message names the agent, the grant and the fix. */
describe('grant requests that throw at once', () => {
  const cases: [string, () => void, RegExp][] = [
    [
      'an expiry in the past',
      () => newAgent(newStack()).temporaryGrant('old', grantOptions({ expiresAt: '2026-11-30T00:00:00Z' })),
      /'billing-bot' grant 'old': expiresAt 2026-11-30T00:00:00Z is not after now \(2026-12-01T00:00:00Z\): renew or remove it/,
    ],
    [
      'an expiry equal to now',
      () => newAgent(newStack()).temporaryGrant('now', grantOptions({ expiresAt: '2026-12-01T00:00:00Z' })),
      /grant 'now': .*renew or remove it/,
    ],
    [
      'an expiry beyond maxGrantDuration',
      () =>
        newAgent(newStack(), { maxGrantDuration: Duration.days(7) }).temporaryGrant(
          'long',
          grantOptions({ expiresAt: '2026-12-08T00:00:01Z' }),
        ),
      /'billing-bot' grant 'long': .*more than maxGrantDuration \(604800 s\).*no later than 2026-12-08T00:00:00Z or raise maxGrantDuration/,
    ],
    [
      'an expiry that is not the expiry form',
      () => newAgent(newStack()).temporaryGrant('fmt', grantOptions({ expiresAt: '2026-12-20' })),
      /grant 'fmt': .*YYYY-MM-DDTHH:MM:SSZ.*write it like 2026-12-31T00:00:00Z/,
    ],
    [
      'a missing requester',
      () => newAgent(newStack()).temporaryGrant('g', grantOptions({ requestedBy: '' })),
      /'billing-bot' grant 'g': requestedBy is missing: say who asked for the grant/,
    ],
    [
      'a missing ticket',
      () => newAgent(newStack()).temporaryGrant('g', grantOptions({ ticket: ' ' })),
      /grant 'g': ticket is missing: say which ticket approved it/,
    ],
    [
      'a missing reason',
      () => newAgent(newStack()).temporaryGrant('g', grantOptions({ reason: undefined as unknown as string })),
      /grant 'g': reason is missing: say why the agent needs it/,
    ],
    [
      'a requester with a space (the tag separator)',
      () => newAgent(newStack()).temporaryGrant('g', grantOptions({ requestedBy: 'Alice Smith' })),
      /grant 'g': expiry tag: requester "Alice Smith" .*no spaces/,
    ],
    [
      'a tag value over 256 characters',
      () => newAgent(newStack()).temporaryGrant('g', grantOptions({ ticket: 'T'.repeat(240) })),
      /grant 'g': expiry tag: grant tag value is \d+ characters; IAM allows 256: shorten the requester or ticket/,
    ],
    [
      'an empty grant name',
      () => newAgent(newStack()).temporaryGrant('', grantOptions()),
      /'billing-bot' grant '': the grant name is empty: give the grant a name/,
    ],
    [
      'a grant name too long for a tag key',
      () => newAgent(newStack()).temporaryGrant('g'.repeat(GRANT_NAME_MAX_LENGTH + 1), grantOptions()),
      new RegExp(
        `the grant name is ${GRANT_NAME_MAX_LENGTH + 1} characters; at most ${GRANT_NAME_MAX_LENGTH} fit in a tag key: shorten it`,
      ),
    ],
    [
      'a grant name with characters a policy name or tag key cannot hold',
      () => newAgent(newStack()).temporaryGrant('db read/write', grantOptions()),
      /grant 'db read\/write': the grant name has characters .*: use only letters, digits and _ \. \+ = @ -/,
    ],
    [
      'a grant named like the baseline',
      () => newAgent(newStack()).temporaryGrant('Baseline', grantOptions()),
      /"baseline" is the name of the baseline policy: choose another grant name/,
    ],
    [
      'two grants whose names differ only in case',
      () => {
        const agent = newAgent(newStack());
        agent.temporaryGrant('Reports-Read', grantOptions());
        agent.temporaryGrant('reports-read', grantOptions());
      },
      /grant 'reports-read': IAM tag keys ignore case, so this name clashes with grant 'Reports-Read': choose another name/,
    ],
    [
      'two grants of the same name',
      () => {
        const agent = newAgent(newStack());
        agent.temporaryGrant('r', grantOptions());
        agent.temporaryGrant('r', grantOptions());
      },
      /grant 'r': the agent already has a grant of this name/,
    ],
    [
      'an action IAM does not have (typo)',
      () =>
        newAgent(newStack()).temporaryGrant(
          'g',
          grantOptions({ statements: [new iam.PolicyStatement({ actions: ['s3:GetObjekt'], resources: ['*'] })] }),
        ),
      /'billing-bot' grant 'g': "s3:GetObjekt" is not an IAM action \(did you mean s3:GetObject\?\): fix the action name/,
    ],
    [
      'an unknown service prefix',
      () =>
        newAgent(newStack()).temporaryGrant(
          'g',
          grantOptions({ statements: [new iam.PolicyStatement({ actions: ['s4:GetObject'], resources: ['*'] })] }),
        ),
      /grant 'g': "s4:GetObject" uses the unknown service prefix "s4"/,
    ],
    [
      'a wildcard that matches no action',
      () =>
        newAgent(newStack()).temporaryGrant(
          'g',
          grantOptions({ statements: [new iam.PolicyStatement({ actions: ['s3:Fetch*'], resources: ['*'] })] }),
        ),
      /"s3:Fetch\*" matches no s3 action/,
    ],
    [
      'a typo in the baseline',
      () => newAgent(newStack(), { baseline: [new iam.PolicyStatement({ actions: ['dynamodb:GetItems'], resources: ['*'] })] }),
      /GovernedAgentRole 'billing-bot' baseline: "dynamodb:GetItems" is not an IAM action \(did you mean dynamodb:GetItem\?\)/,
    ],
    [
      'a typo in a CDK-style grant to the agent',
      () => newAgent(newStack()).role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMesage'], resources: ['*'] })),
      /baseline: "sqs:SendMesage" is not an IAM action/,
    ],
    [
      'a typo in the ceiling',
      () => newAgent(newStack(), { ceiling: [new iam.PolicyStatement({ actions: ['s3:GetObjekt'], resources: ['*'] })] }),
      /'billing-bot' ceiling: "s3:GetObjekt" is not an IAM action/,
    ],
    [
      'an owner tag value IAM refuses',
      () => newAgent(newStack(), { owner: 'team#1 <ops>' }),
      /GovernedAgentRole 'billing-bot': owner "team#1 <ops>" has characters IAM refuses in a tag value/,
    ],
    [
      'an owner over 256 characters',
      () => newAgent(newStack(), { owner: 'o'.repeat(257) }),
      /owner is 257 characters; an IAM tag value holds at most 256: shorten it/,
    ],
    [
      'an agent id that cannot name a parameter',
      () => newAgent(newStack(), { agentId: 'billing bot' }),
      /agentId "billing bot" must be a literal of 1 to 128 letters, digits and _ \. -/,
    ],
    [
      'two agents with one agent id in a stack',
      () => {
        const stack = newStack();
        newAgent(stack, {}, 'One');
        newAgent(stack, {}, 'Two');
      },
      /another GovernedAgentRole \(Agents\/One\) has this agentId/,
    ],
    [
      'a bad synth clock',
      () => newAgent(newStack('yesterday')).temporaryGrant('g', grantOptions()),
      /context permission-decay:now "yesterday" is not an ISO-8601 instant/,
    ],
  ];
  test.each(cases)('%s', (_what, act, message) => {
    expect(act).toThrow(message);
  });

  test('unresolved tokens in actions are skipped', () => {
    const stack = newStack();
    expect(() =>
      newAgent(stack, {
        baseline: [new iam.PolicyStatement({ actions: [Lazy.string({ produce: () => 's3:GetObject' })], resources: ['*'] })],
      }),
    ).not.toThrow();
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

/** Checks that depend on the finished tree run at synth (node.addValidation). */
describe('checks at synth', () => {
  test('a grant with no statements', () => {
    const stack = newStack();
    newAgent(stack).temporaryGrant('empty', grantOptions());
    expect(() => Template.fromStack(stack)).toThrow(
      /'billing-bot' grant 'empty': the grant has no statements: add statements to it .* or remove it/,
    );
  });

  test('a statement mutated after it was added, to an action IAM does not have', () => {
    const stack = newStack();
    const statement = readStatement();
    newAgent(stack, { baseline: [statement] });
    statement.addActions('s3:PutObjekt');
    expect(() => Template.fromStack(stack)).toThrow(/'billing-bot' policy 'baseline': "s3:PutObjekt" is not an IAM action/);
  });

  test('more tags than IAM allows on a role', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    for (let i = 0; i < 40; i++) agent.temporaryGrant(`g${i}`, grantOptions({ statements: [readStatement()] }));
    for (let i = 0; i < 10; i++) Tags.of(stack).add(`cost-center-${i}`, 'x');
    // 4 governance tags (managed-by, agent, owner, spec-digest) + 40 grant tags + 10 stack tags.
    expect(() => Template.fromStack(stack)).toThrow(/'billing-bot': the role would carry 54 tags .* IAM allows 50: remove grants or tags/);
  });

  test('more inline policy text than IAM allows on a role', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    for (let i = 0; i < 4; i++) {
      agent.temporaryGrant(
        `g${i}`,
        grantOptions({
          statements: Array.from({ length: 30 }, (_, j) => readStatement(`arn:aws:s3:::a-bucket-name-of-some-length-${i}-${j}/prefix/*`)),
        }),
      );
    }
    expect(() => Template.fromStack(stack)).toThrow(
      /'billing-bot': its inline policies .* about \d+ characters; IAM allows 10240 per role/,
    );
  });

  test('more managed policies than IAM allows on a role', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    for (let i = 0; i < 11; i++) new iam.ManagedPolicy(stack, `M${i}`, { statements: [readStatement()], roles: [agent.role] });
    expect(() => Template.fromStack(stack)).toThrow(
      /'billing-bot': 11 managed policies are attached; IAM allows 10 per role: merge some of them/,
    );
  });

  test('a spec too large for an SSM parameter', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    for (let i = 0; i < 80; i++) agent.addToBaseline(readStatement(`arn:aws:s3:::a-bucket-name-of-some-length-${i}/*`));
    expect(() => Template.fromStack(stack)).toThrow(
      /'billing-bot': its approved spec is about \d+ characters; an SSM parameter holds 8192: move statements/,
    );
  });

  test('a ceiling too large for a managed policy', () => {
    const stack = newStack();
    newAgent(stack, { ceiling: Array.from({ length: 80 }, (_, i) => readStatement(`arn:aws:s3:::a-bucket-name-of-some-length-${i}/*`)) });
    expect(() => Template.fromStack(stack)).toThrow(
      /'billing-bot': its boundary .* about \d+ characters; a managed policy holds 6144: shorten the ceiling/,
    );
  });

  test('a wildcard action in a time-bound grant is a warning', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    agent.temporaryGrant('g', grantOptions({ statements: [new iam.PolicyStatement({ actions: ['s3:Get*'], resources: ['*'] })] }));
    agent.addToBaseline(new iam.PolicyStatement({ actions: ['s3:List*'], resources: ['*'] }));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('wildcard'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toMatch(
      /agent 'billing-bot' grant 'g': wildcard actions s3:Get\* may allow more than the ticket approved: list the actions/,
    );
  });
});
