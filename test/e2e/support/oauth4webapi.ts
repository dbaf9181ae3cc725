/**
 * oauth4webapi, the certified client the interop legs use, loaded from where it is installed: a
 * devDependency of @oauth-m2m/server (and of the verifier), at the one version the workspace pins
 * (3.8.8), not of this package.
 */
export * from '../../../packages/server/node_modules/oauth4webapi/build/index.js'
