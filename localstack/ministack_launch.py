"""Start MiniStack with three corrections that make it behave as AWS does (scripts/lib/infra.ts).

1. A Lambda that API Gateway cannot invoke because it is throttled (reserved or account
concurrency) is, on AWS, an integration failure of the REST API: the client gets the
INTEGRATION_FAILURE gateway response, which the API may customise (ours answers a 503
problem+json with Retry-After, cdk/lib/public-api.ts). MiniStack 1.5.33 passes Lambda's own
TooManyRequestsException body through an AWS_PROXY integration instead, so a crowd at the
public door saw the emulator's raw 429 and the template's gateway responses never applied.

2. A Lambda task that Step Functions cannot invoke because it is throttled fails, on AWS, with
the error `Lambda.TooManyRequestsException`, which the saga retries (stepfunctions/
checkout-saga.asl.json, as AWS recommends). MiniStack 1.5.33 names it `Lambda.Unknown`, so no
Retry matched and a crowd failed half the orders at their first step (measured: 83 of 167).

3. A `lambda:invoke.waitForTaskToken` task whose function fails (it throws, or cannot be invoked)
fails, on AWS, with the function's error (Catch and Retry apply at once): the function runs as a
RequestResponse invocation, and only its success leaves the task waiting for the token. MiniStack
1.5.33 ignores the invocation's error (`_invoke_with_callback`) and waits for a callback that
never comes until the task's TimeoutSeconds, so a saga step that threw in WaitForPayment ended as
`States.Timeout` 30 s later instead of failing with its own error (a chaos "error" rule there
looked like a "timeout" one). The shim records the error as the task's failure (what
SendTaskFailure would do) unless the task already has an outcome, so the wait ends at once.

Everything else is MiniStack unchanged. The correction refuses to load on another MiniStack
version: when the pin in localstack/requirements.txt moves, check whether upstream fixed these
(apigateway_v1._invoke_lambda_proxy_v1, stepfunctions._call_lambda and _invoke_with_callback)
and drop or adapt the shim.
"""

import contextvars
import sys
from importlib.metadata import version

EXPECTED_VERSION = "1.5.33"

installed = version("ministack")
if installed != EXPECTED_VERSION:
    sys.exit(
        f"localstack/ministack_launch.py corrects MiniStack {EXPECTED_VERSION}, found {installed}: "
        "check the shim against the new version before starting it"
    )

from ministack.app import main  # noqa: E402
from ministack.services import apigateway_v1 as rest  # noqa: E402
from ministack.services import stepfunctions as sfn  # noqa: E402

_in_proxy_integration = contextvars.ContextVar("in_proxy_integration", default=False)


class _LambdaThrottled(Exception):
    """Raised inside an AWS_PROXY invocation when Lambda refused to run the function."""


_call_lambda_raw = rest._call_lambda_raw
_invoke_lambda_proxy_v1 = rest._invoke_lambda_proxy_v1


async def _call_lambda_raw_aws(*args, **kwargs):
    result, err = await _call_lambda_raw(*args, **kwargs)
    if _in_proxy_integration.get() and err is None and isinstance(result, dict) and result.get("throttle"):
        raise _LambdaThrottled()
    return result, err


async def _invoke_lambda_proxy_v1_aws(*args, **kwargs):
    token = _in_proxy_integration.set(True)
    try:
        return await _invoke_lambda_proxy_v1(*args, **kwargs)
    except _LambdaThrottled:
        # What AWS answers: the INTEGRATION_FAILURE gateway response of the stage's deployment.
        return rest._gw_error("INTEGRATION_FAILURE", "Internal server error")
    finally:
        _in_proxy_integration.reset(token)


rest._call_lambda_raw = _call_lambda_raw_aws
rest._invoke_lambda_proxy_v1 = _invoke_lambda_proxy_v1_aws

_sfn_call_lambda = sfn._call_lambda
_sfn_invoke_with_callback = sfn._invoke_with_callback
# The task token of the waitForTaskToken task whose function is being invoked (correction 3).
_callback_token = contextvars.ContextVar("callback_token", default=None)


def _fail_callback_task(err):
    """Correction 3: the callback task's function failed, so the task fails with its error."""
    token = _callback_token.get()
    info = sfn._task_tokens.get(token) if token is not None else None
    if info is None or info["event"].is_set() or info.get("result") is not None or info.get("error") is not None:
        return  # not a callback task, or it already has an outcome (SendTaskSuccess/Failure came first)
    info["error"] = {"Error": err.error, "Cause": err.cause}
    info["event"].set()


def _sfn_call_lambda_aws(func_ref, event):
    try:
        return _sfn_call_lambda(func_ref, event)
    except sfn._ExecutionError as err:
        # A throttle's body is Lambda's TooManyRequestsException (no errorType: the function never ran).
        if err.error == "Lambda.Unknown" and '"TooManyRequestsException"' in str(err.cause):
            err = sfn._ExecutionError("Lambda.TooManyRequestsException", err.cause)
        _fail_callback_task(err)
        raise err from None


def _sfn_invoke_with_callback_aws(resource, input_data, token, state_def):
    ctx = _callback_token.set(token)
    try:
        return _sfn_invoke_with_callback(resource, input_data, token, state_def)
    finally:
        _callback_token.reset(ctx)


sfn._call_lambda = _sfn_call_lambda_aws
sfn._invoke_with_callback = _sfn_invoke_with_callback_aws

if __name__ == "__main__":
    sys.argv[0] = "ministack"
    sys.exit(main())
