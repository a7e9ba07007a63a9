// generic_secret_assignment: the engine walks key / operator / value by hand and the pattern
// confirms on that slice only (matcher.ts, matchAssignments). These are the written forms it must
// keep catching, the ones it must not, and floods that must stay linear.
import { createTextScanner } from '../../../extproc/guardrails/scanner.ts';
import { BUILTIN_RULES } from '../../../extproc/guardrails/policy.ts';

const scanner = createTextScanner([...BUILTIN_RULES]);
const VALUE = 'Xk9fP2mQ7rT4vW8zLp3N';

function genericValues(text: string): string[] {
  return scanner
    .scan(text)
    .filter((m) => m.ruleId === 'generic_secret_assignment')
    .map((m) => text.slice(m.start, m.end));
}

describe('generic secret assignment', () => {
  test.each([
    `access-key=${VALUE}`,
    `accesskey: ${VALUE}`,
    `AccessKey: ${VALUE}`,
    `ACCESS_KEY=${VALUE}`,
    `"api_key": "${VALUE}"`,
    `{"password":"${VALUE}"}`,
    `apiKey: ${VALUE}`,
    `export TOKEN=${VALUE}`,
    `password => '${VALUE}'`,
    `db_password := ${VALUE}`,
    `my_secret_token_value = "${VALUE}"`,
    `credentials='${VALUE}'`,
    `auth-token: ${VALUE}`,
    `authtoken=${VALUE}`,
    `pwd:${VALUE}`,
    `secret"  :  "${VALUE}"`,
    `token\t=\t${VALUE}`,
    `password:\n  ${VALUE}`,
    `PASSWORD="${VALUE}" # prod`,
    `some text before; password = ${VALUE}, and after`,
  ])('flags the value of %j', (text) => {
    expect(genericValues(text)).toEqual([VALUE]);
  });

  test.each([
    `password == ${VALUE}`, // comparison, not assignment
    `password = "changeme"`, // too short
    `token = await getToken(userId);`,
    `password = ${'a'.repeat(20)}`, // low entropy
    `password = ${'Xk9fP2mQ'.repeat(17)}`, // longer than 128
    `the password is ${VALUE}`, // no operator
    `password_for_the_production_database_server = ${VALUE}`, // key too long after the keyword
  ])('does not flag %j', (text) => {
    expect(genericValues(text)).toEqual([]);
  });

  test('two assignments on one line, and one whose value ends the text', () => {
    const text = `password=${VALUE} token: ${VALUE.split('').reverse().join('')}`;
    expect(genericValues(text)).toEqual([VALUE, VALUE.split('').reverse().join('')]);
    expect(genericValues(`x\napi_key=${VALUE}`)).toEqual([VALUE]);
  });

  test('keyword and operator floods stay fast', () => {
    const floods = ['password'.repeat(1 << 14), 'password='.repeat(1 << 14), 'token: '.repeat(1 << 14), `password=${'x'.repeat(1 << 17)}`, 'password' + ' '.repeat(1 << 17) + '=' + VALUE];
    for (const flood of floods) {
      const t0 = process.threadCpuUsage();
      scanner.scan(flood);
      const used = process.threadCpuUsage(t0);
      expect((used.user + used.system) / 1000).toBeLessThan(500);
    }
  });
});
