// Package alertmanager holds the shipped Alertmanager config
// (alertmanager.yml) and the relay's example config; its subpackages are the
// relay and its channels. The package's test holds every relay config the
// project ships or writes in step with the targets alertmanager.yml routes to.
package alertmanager
