#!/usr/bin/env node
// The bin links to this committed shim rather than to dist/, so installing a fresh checkout
// (before its first build) can link the command; the CLI itself is the compiled src/cli/m2m-test-server.ts.
import '../dist/cli/m2m-test-server.js'
