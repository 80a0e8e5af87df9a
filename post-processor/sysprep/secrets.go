package sysprep

import "strings"

// secretOptions are the virt-sysprep options whose value holds a password
// (a selector: password:X, or USER:password:X).
var secretOptions = []string{"--root-password", "--password"}

// argSecrets are the passwords in extra_args: the value of each of
// secretOptions, given after it or after "=", and the password in it.
// They are registered with Packer's secret filter, through which the
// tools' errors, which quote their command line, are shown.
func argSecrets(args []string) []string {
	var secrets []string
	for i, a := range args {
		for _, o := range secretOptions {
			v := ""
			if a == o && i+1 < len(args) {
				v = args[i+1]
			} else if strings.HasPrefix(a, o+"=") {
				v = a[len(o)+1:]
			}
			if v == "" {
				continue
			}
			secrets = append(secrets, v)
			if _, pw, ok := strings.Cut(v, "password:"); ok && pw != "" {
				secrets = append(secrets, pw)
			}
		}
	}
	return secrets
}
