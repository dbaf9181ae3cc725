// Preloaded into `m2m-token` child processes by the CLI tests: resolves the docker-compose style
// host name `auth-server` to 127.0.0.1, so that a non-loopback host name can be tested while every
// connection stays on the loopback interface.
import dns from 'node:dns'

const lookup = dns.lookup
dns.lookup = function (hostname, ...rest) {
  return lookup.call(this, hostname === 'auth-server' ? '127.0.0.1' : hostname, ...rest)
}
