# A Locust file for TestCSVMatchesLocust: each task records a fake echo
# round trip (no network) of about the time ltk's --target-delay 150ms gives,
# so that both tools write their CSV files for the same magnitudes.
from itertools import cycle

from locust import User, constant, task

# Response times around ltk's --target-delay 150ms, in milliseconds.
TIMES = cycle([148.25, 151.5, 153.125, 150.0625])


class Device(User):
    wait_time = constant(0.1)

    @task
    def echo(self):
        self.environment.events.request.fire(
            request_type="echo", name="echo receive", response_time=next(TIMES),
            response_length=64, exception=None, context={})
