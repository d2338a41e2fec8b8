import { openBaoConfig, revocationStatement } from '../../scripts/lib/infra';
import { parseRedisInfo, pgRestartCommand, redisRestartCommand } from '../../scripts/lib/infra-faults';
import { childWorkers, environHasGatewayPort, parsePpid, workerFunctionName } from '../../scripts/lib/lambda-workers';
import { DEFAULT_INFRA_FAULTS, parseInfraFaults } from '../soak/engine';

/** The soak's infrastructure faults: the command lines they would run, built from what the machine reports. */
describe('Postgres restart command', () => {
  const lsclusters = [
    '14 main 5433 down   postgres /var/lib/postgresql/14/main /var/log/postgresql/postgresql-14-main.log',
    '15 main 5432 online postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log',
    '',
  ].join('\n');

  it('restarts the online cluster on our port with pg_ctlcluster, fast, without the systemctl redirect', () => {
    expect(pgRestartCommand({ lsclusters, port: 5432, hasServiceCommand: true })).toEqual({
      cmd: 'pg_ctlcluster',
      args: ['--skip-systemctl-redirect', '--mode', 'fast', '15', 'main', 'restart'],
    });
  });

  it('never picks a cluster on another port or one that is down', () => {
    expect(() => pgRestartCommand({ lsclusters, port: 5433, hasServiceCommand: false })).toThrow(/no way to restart/);
    expect(() => pgRestartCommand({ lsclusters, port: 6543, hasServiceCommand: false })).toThrow(/port 6543/);
  });

  it('falls back to the service command when pg_lsclusters knows no cluster there or is missing', () => {
    expect(pgRestartCommand({ lsclusters: undefined, port: 5432, hasServiceCommand: true })).toEqual({ cmd: 'service', args: ['postgresql', 'restart'] });
    expect(pgRestartCommand({ lsclusters, port: 5440, hasServiceCommand: true }).cmd).toBe('service');
  });
});

describe('Redis restart command', () => {
  const info = parseRedisInfo('# Server\r\nredis_version:7.0.15\r\nprocess_id:2234\r\ntcp_port:6379\r\nexecutable:/redis-server\r\nconfig_file:\r\n');
  const config = {
    bind: '127.0.0.1 -::1',
    port: '6379',
    'protected-mode': 'yes',
    unixsocket: '',
    unixsocketperm: '0',
    dir: '/var/lib/redis',
    dbfilename: 'dump.rdb',
    save: '',
    appendonly: 'no',
    appendfilename: 'appendonly.aof',
    appenddirname: 'appendonlydir',
    appendfsync: 'everysec',
    databases: '16',
    maxmemory: '0',
    'maxmemory-policy': 'noeviction',
    logfile: '/var/log/redis/ci.log',
    loglevel: 'notice',
    pidfile: '',
    requirepass: '',
    'hz': '10',
  };
  const exists = (f: string) => f === '/usr/bin/redis-server';

  it('parses INFO', () => {
    expect(info).toMatchObject({ redis_version: '7.0.15', tcp_port: '6379', executable: '/redis-server', config_file: '' });
  });

  it('starts the same server on the same port with the same persistence (no save points stay none)', () => {
    const { cmd, args } = redisRestartCommand({ info, config }, { redisServer: '/usr/bin/redis-server', exists });
    // The reported executable is relative to where it was started: PATH's redis-server instead.
    expect(cmd).toBe('/usr/bin/redis-server');
    expect(args.slice(0, 4)).toEqual(['--bind', '127.0.0.1', '-::1', '--port']);
    const pairs = new Map<string, string[]>();
    for (let i = 0; i < args.length; ) {
      const name = args[i++];
      const values: string[] = [];
      while (i < args.length && !args[i].startsWith('--')) values.push(args[i++]);
      pairs.set(name, values);
    }
    expect(pairs.get('--port')).toEqual(['6379']);
    expect(pairs.get('--save')).toEqual(['']);
    expect(pairs.get('--appendonly')).toEqual(['no']);
    expect(pairs.get('--dir')).toEqual(['/var/lib/redis']);
    expect(pairs.get('--logfile')).toEqual(['/var/log/redis/ci.log']);
    expect(pairs.get('--daemonize')).toEqual(['yes']);
    expect(pairs.has('--unixsocket')).toBe(false);
    expect(pairs.has('--unixsocketperm')).toBe(false);
    expect(pairs.has('--pidfile')).toBe(false);
    expect(pairs.has('--hz')).toBe(false);
  });

  it('keeps configured save points', () => {
    const { args } = redisRestartCommand({ info, config: { ...config, save: '3600 1 300 100' } }, { redisServer: '/usr/bin/redis-server', exists });
    const i = args.indexOf('--save');
    expect(args.slice(i, i + 5)).toEqual(['--save', '3600', '1', '300', '100']);
  });

  it('uses the config file the server was started with', () => {
    const withFile = { ...info, executable: '/usr/bin/redis-server', config_file: '/etc/redis/redis.conf' };
    expect(redisRestartCommand({ info: withFile, config }, { redisServer: undefined, exists })).toEqual({
      cmd: '/usr/bin/redis-server',
      args: ['/etc/redis/redis.conf', '--daemonize', 'yes'],
    });
  });

  it('refuses to put a password on a command line, or to guess a missing binary', () => {
    expect(() => redisRestartCommand({ info, config: { ...config, requirepass: 's3cret' } }, { redisServer: '/usr/bin/redis-server', exists })).toThrow(/password/);
    expect(() => redisRestartCommand({ info, config }, { redisServer: undefined, exists: () => false })).toThrow(/not found/);
  });
});

describe('MiniStack Lambda workers', () => {
  const worker = (fn: string, suffix = 'v9j2ob4y') => `node /tmp/ministack-lambda-${fn}-${suffix}/_worker.js`;

  it('names the function a worker runs, only for our stack', () => {
    expect(workerFunctionName(worker('CheckoutMesh-OrdersSagaSagaStep35121E5A-624FF87871F21', '3s4_n095'), 'CheckoutMesh')).toBe(
      'CheckoutMesh-OrdersSagaSagaStep35121E5A-624FF87871F21',
    );
    expect(workerFunctionName(worker('CheckoutMesh-OrdersMeshPaymentEventsConsumer134E02C4A8C116922304'), 'CheckoutMesh')).toBe(
      'CheckoutMesh-OrdersMeshPaymentEventsConsumer134E02C4A8C116922304',
    );
    expect(workerFunctionName(worker('OtherStack-BffApi48CD80BF-02305D4974F2C'), 'CheckoutMesh')).toBeUndefined();
    expect(workerFunctionName('node /work/x/scripts/cli.ts up', 'CheckoutMesh')).toBeUndefined();
  });

  it('reads the parent pid from /proc/<pid>/stat, whatever the command name holds', () => {
    expect(parsePpid('12220 (node) S 10407 10407 10407 0 -1 4194304 ...')).toBe(10407);
    expect(parsePpid('77 (a) b (c) R 1 77 77 0 -1')).toBe(1);
  });

  it("picks only the children of our emulator's process", () => {
    const procs = [
      { pid: 1, ppid: 10407, cmdline: worker('CheckoutMesh-BffApi48CD80BF-02305D4974F2C') },
      { pid: 2, ppid: 9999, cmdline: worker('CheckoutMesh-BffApi48CD80BF-02305D4974F2C') }, // another stack's emulator
      { pid: 3, ppid: 10407, cmdline: 'python3 something-else' },
    ];
    expect(childWorkers(procs, 10407, 'CheckoutMesh')).toEqual([{ pid: 1, ppid: 10407, functionName: 'CheckoutMesh-BffApi48CD80BF-02305D4974F2C' }]);
  });

  it('tells orphans of our emulator by its gateway port', () => {
    expect(environHasGatewayPort('PATH=/bin\0GATEWAY_PORT=4666\0X=1', 4666)).toBe(true);
    expect(environHasGatewayPort('PATH=/bin\0GATEWAY_PORT=4566\0X=1', 4666)).toBe(false);
    expect(environHasGatewayPort('GATEWAY_PORT=46660', 4666)).toBe(false);
  });
});

describe('soak --infra-faults', () => {
  it('defaults to the faults that touch only our own processes', () => {
    expect(parseInfraFaults(undefined)).toEqual(['bao', 'workers']);
    expect(parseInfraFaults('')).toEqual([...DEFAULT_INFRA_FAULTS]);
  });

  it('takes a list, all or none, and refuses unknown names', () => {
    expect(parseInfraFaults('pg, redis,pg')).toEqual(['pg', 'redis']);
    expect(parseInfraFaults('ALL')).toEqual(['pg', 'redis', 'bao', 'workers']);
    expect(parseInfraFaults('none')).toEqual([]);
    expect(() => parseInfraFaults('bao,postgres')).toThrow(/unknown infrastructure fault "postgres"/);
  });
});

describe('OpenBao configuration', () => {
  it('is persistent (raft on disk), on loopback without TLS, and carries no secret', () => {
    const hcl = openBaoConfig({ port: 8300, dataDir: '/repo/.local/openbao/data' });
    expect(hcl).toMatch(/storage "raft" \{\s*path\s*= "\/repo\/\.local\/openbao\/data"/);
    expect(hcl).toMatch(/address\s*= "127\.0\.0\.1:8300"/);
    expect(hcl).toMatch(/cluster_address\s*= "127\.0\.0\.1:8301"/);
    expect(hcl).toMatch(/tls_disable\s*= true/);
    expect(hcl).not.toMatch(/-dev|token|unseal|seal "/i);
  });

  it("revokes a lease whose database user is already gone (one dollar-quoted statement, the user's objects to the owner role)", () => {
    const sql = revocationStatement('catalog');
    expect(sql).toMatch(/^DO \$\$ BEGIN/);
    expect(sql).toMatch(/\$\$;$/);
    expect(sql).toContain(`IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{{name}}') THEN`);
    expect(sql.indexOf('REASSIGN OWNED BY "{{name}}" TO catalog_owner;')).toBeLessThan(sql.indexOf('DROP ROLE "{{name}}";'));
  });
});
