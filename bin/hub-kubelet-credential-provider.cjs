#!/usr/bin/env node
// The kubelet's image credential provider for hub registries (its CredentialProviderConfig: packages/hub-auth/deploy/kubelet/).
// CommonJS, like the bundles it loads: the kubelet starts it before pods whose images are on a hub registry.
const {join} = require('node:path');
const {requireWithCodeCache} = require('../dist/bundle/code-cache.cjs');

requireWithCodeCache(join(__dirname, '../dist/bundle/credential-provider-main.cjs'))
  .serve()
  .then((exitCode) => {
    process.exitCode = exitCode;
  });
