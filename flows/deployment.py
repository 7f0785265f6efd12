"""The nightly flow as deployed: the entrypoint prefect.yaml names, with the retry policy of scheduled runs."""

from __future__ import annotations

from flows.nightly import nightly

# A deployed run that fails (a source down for a while, the output lock held past lock_timeout) is retried once, a
# quarter of an hour later. Runs started from the terminal fail at once so the person sees why. A run rejected by
# validation is retried too (Prefect has no per-exception flow retry) and is rejected again with the same report;
# that costs one extra run and publishes nothing.
RETRIES = 1
RETRY_DELAY_SECONDS = 900

nightly_deployed = nightly.with_options(retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS)
