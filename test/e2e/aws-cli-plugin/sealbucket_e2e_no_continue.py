"""aws CLI (v1) plugin for the e2e tests: uploads go without `Expect: 100-continue`.

botocore sends that header with every PutObject/UploadPart body and then waits 1 s for a
100 Continue before sending the body anyway; `wrangler dev` never sends one, so each upload
would idle 1 s. helpers.ts loads this plugin for the CLI runs (see awsConfig there).
"""

from botocore.handlers import add_expect_header


def awscli_initialize(event_hooks):
    event_hooks.unregister('before-call.s3', add_expect_header)
