// Package compose holds the tests of the container stack: docker-compose.yml
// and the Dockerfile, checked against the config files they mount. Docker
// need not run for them; they catch a renamed service, a moved file, a port
// that differs between the compose file and the configs, an unpinned image
// or a root user before anyone starts the stack.
package compose
