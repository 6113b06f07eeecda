// Command guestprobe runs inside a Friendly VM guest for the real-kernel
// tests and the overhead benchmark. It is built on the host as a static
// binary (CGO_ENABLED=0) and run from the guest's hostfs root.
//
//	guestprobe spin -for 5s                 busy loop; prints JSON: iterations, guest ns, host times
//	guestprobe watch -for 8s -dir D         consume /proc/fvm/windows once, in order; log stats
//	guestprobe writes -cases F -out F       perform knob writes from a JSON list, report errnos
//	guestprobe fuzz -n N -seed S -out F     random writes to the knobs, checked against the rules
//	guestprobe lag -for 10s -every 50ms -out F   guest clock vs host clock, newest window (stats)
//	guestprobe next -for 3s -out F          read /proc/fvm/next: every read, then O_NONBLOCK and a small buffer
//
// The probe reports what it observed; the tests on the host judge it.
package main
