// Command ltk is a load-test kit for IoT back ends: it simulates MQTT devices,
// drives them against a broker and an application, and reports what happened.
package main

import (
	"os"

	"github.com/ltk-dev/ltk/internal/cli"
)

func main() {
	os.Exit(int(cli.Main(cli.NewProcessEnv())))
}
