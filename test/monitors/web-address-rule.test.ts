// The rendered fetch's address rule (base/address-rule.ts) decides what a page on a public address may make
// the browser reach. An address is refused when it reaches this machine or a network that is not the public web,
// whatever its spelling — including IPv6 forms that carry an IPv4 address a gateway would deliver it to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPrivateAddress } from '../../base/address-rule.js';

test('addresses that do not reach the public web are refused, in every spelling', () => {
  const refused = [
    '127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.251', '239.255.255.250', '255.255.255.255', '240.0.0.1', '198.18.0.1',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', 'fec0::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:a00:1',
    '64:ff9b::7f00:1', '64:ff9b::192.168.1.1', // NAT64 into this machine / the home network
    '2002:7f00:1::1', '2002:c0a8:101::1', // 6to4 carrying 127.0.0.1 / 192.168.1.1
    '::7f00:1', '::192.168.1.1', // IPv4-compatible
  ];
  for (const a of refused) assert.equal(isPrivateAddress(a), true, `${a} must be refused`);
});

test('public addresses are reached, also when IPv6 carries a public IPv4 one', () => {
  const allowed = ['8.8.8.8', '93.184.216.34', '2606:4700::1111', '2a00:1450:4001::200e', '64:ff9b::808:808', '2002:808:808::1', '::ffff:8.8.8.8'];
  for (const a of allowed) assert.equal(isPrivateAddress(a), false, `${a} is public`);
  assert.equal(isPrivateAddress('not an address'), false, 'a name is judged after it resolves');
});
