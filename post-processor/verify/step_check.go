package verify

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"golang.org/x/crypto/ssh"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// waits are how long each thing is waited for once the instance is up
// (cloud-init may set the key or the password a little after sshd
// starts), and how often it is tried. Unit tests shorten them.
type waits struct {
	key, password, agent, nic, web time.Duration
	// An instance whose console shows a login prompt this long without
	// SSH answering has booted without it.
	promptGrace time.Duration
	// poll is the pause between two tries.
	poll time.Duration
	// attempt bounds one try to come in after the reboot, which may meet
	// the old boot going down.
	attempt time.Duration
}

var defaultWaits = waits{
	key: 2 * time.Minute, password: time.Minute, agent: time.Minute, nic: time.Minute, web: time.Minute,
	promptGrace: 2 * time.Minute, poll: 3 * time.Second, attempt: 30 * time.Second,
}

// stepCheck checks the items live, in the order a user of the instance
// would meet them, and puts the results in the state.
type stepCheck struct {
	config *Config
	waits  waits

	ui      packersdk.Ui
	d       virt.Driver
	dom     virt.Domain
	in      *instance
	g       *guest
	r       results
	disk    string
	console string
	sh      shell // the way in for the inside checks
}

func (s *stepCheck) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	s.ui = state.Get("ui").(packersdk.Ui)
	s.d = state.Get("driver").(virt.Driver)
	s.dom = state.Get("domain").(virt.Domain)
	s.in = state.Get("instance").(*instance)
	s.g = state.Get("guest").(*guest)
	s.disk = state.Get("disk").(virt.Volume).Path
	s.console = state.Get("console_log").(string)
	s.r = results{}
	s.g.poll = s.waits.poll
	c := s.config

	why := s.check(ctx)
	if s.sh != nil {
		s.sh.close()
	}
	if err := ctx.Err(); err != nil {
		return step.Halt(state, err)
	}
	ok, ev := consoleLog(s.console)
	s.r.set("L12", ok, "%s", ev)
	s.r.notApplicable("L18", "checked offline, on the image file, by the cloudimage-sysprep post-processor: a running instance makes new host keys, a machine-id and logs")
	for id := range c.skipItems {
		s.r.notApplicable(id, "skipped (skip_items)")
	}
	state.Put("results", s.r.list(report.IDs(false), why))
	return multistep.ActionContinue
}

// check runs the checks; it returns why the items it could not reach
// failed.
func (s *stepCheck) check(ctx context.Context) string {
	c, in, g, r := s.config, s.in, s.g, s.r
	start := time.Now()
	bootCtx, cancel := context.WithTimeout(ctx, c.BootTimeout)
	defer cancel()
	s.ui.Say(fmt.Sprintf("Waiting up to %s for SSH on %s...", c.BootTimeout, g.sshAddr()))
	if err := g.resolve(bootCtx, s.d, s.dom, c.NetworkMode); err != nil {
		return err.Error()
	}
	sshAnswers := true
	if err := g.waitSSH(bootCtx, s.console, s.waits.promptGrace); err != nil {
		sshAnswers = false
		noSSH := fmt.Sprintf("no SSH: %v", err)
		r.set("L04", false, "%s", noSSH)
		r.set("L05", false, "%s", noSSH)
		r.set("L06", false, "%s", noSSH)
		s.ui.Say(noSSH)
	} else {
		s.ui.Say(fmt.Sprintf("SSH answered %s after the start", time.Since(start).Round(time.Second)))
		s.logins(ctx, start)
	}

	// L07: the guest agent answers and resets the password.
	s.agent(ctx, sshAnswers)
	if s.sh == nil {
		return "nothing let the check in: neither SSH (the metadata's key, user-data's password, the guest agent's) nor the guest agent's guest-exec"
	}
	if ctx.Err() != nil {
		return ""
	}
	if _, ok := s.sh.(*sshShell); !ok || r["L06"].Status != report.Pass {
		// The key login waited for cloud-init; the other ways in did not.
		s.waitCloudInit(ctx, s.sh)
	}

	s.ui.Say(fmt.Sprintf("Looking inside the instance through %s...", s.sh))
	f, err := probe(ctx, s.sh)
	if err != nil {
		return fmt.Sprintf("the probe failed: %v", err)
	}
	s.ui.Say(fmt.Sprintf("%s, cloud-init: %s", f.get("os_name"), or(f.get("cloud_init"), "none")))
	r.checkInside(f, in)

	// L13: the web server answers from outside.
	var web string
	err = retry(ctx, s.waits.web, s.waits.poll, func() (err error) {
		web, err = webAnswer(ctx, g, c.HTTPPort)
		return err
	})
	r.set("L13", err == nil, "%s", or(web, fmt.Sprintf("no answer on the guest's port %d within %s: %v", c.HTTPPort, s.waits.web, err)))

	if ctx.Err() != nil {
		return ""
	}
	// L11: a second NIC, hot; after the reboot below where the family
	// promises only that.
	hot := s.secondNIC(ctx)
	if ctx.Err() != nil {
		return ""
	}

	// L17: the flavor grows; the root follows at the next boot.
	s.ui.Say(fmt.Sprintf("Growing the disk to %s and rebooting...", gib(in.resized)))
	if err := s.d.ResizeDisk(s.dom, s.disk, in.resized); err != nil {
		r.set("L17", false, "resizing the disk: %v", err)
	}
	after, err := s.reboot(ctx, f.get("boot_id"))
	if err != nil {
		if _, done := r["L17"]; !done {
			r.set("L17", false, "%v", err)
		}
		if hot == "" {
			r.set("L11", false, "no address on the second NIC (%s) while running, and %v", in.secondMAC, err)
		}
		r.checkPins(f, in)
		return ""
	}
	if _, done := r["L17"]; !done {
		r.grown("L17", after, in.resized)
	}
	if hot == "" {
		if n, ok := after.nicByMAC(in.secondMAC); ok && len(n.addrs) > 0 {
			if f.rhelLike() {
				r.set("L11", false, "the second NIC got %s only after a reboot: a RHEL-like family brings a NIC up while running", strings.Join(n.addrs, " "))
			} else {
				r.set("L11", true, "the second NIC %s (%s) got %s after a reboot (not while running: this family promises the reboot)", n.name, n.mac, strings.Join(n.addrs, " "))
			}
		} else {
			r.set("L11", false, "the second NIC (%s) has no address, while running or after a reboot: %s", in.secondMAC, strings.Join(after["nic"], "; "))
		}
	}
	r.checkPins(after, in)
	return ""
}

// logins checks L06, then L04 and L05, once SSH answers.
func (s *stepCheck) logins(ctx context.Context, start time.Time) {
	in, g, r := s.in, s.g, s.r
	keyAuth := []ssh.AuthMethod{ssh.PublicKeys(in.signer)}
	if cl, err := g.login(ctx, in.user, keyAuth, s.waits.key); err == nil {
		r.set("L06", true, "%s logged in with the metadata's key (public_keys) %s after the start", in.user, time.Since(start).Round(time.Second))
		s.keep(cl, keyAuth, "the metadata's key")
		s.waitCloudInit(ctx, s.sh)
	} else {
		r.set("L06", false, "%s could not log in with the metadata's key within %s: %v", in.user, s.waits.key, err)
	}

	pwAuth := passwordAuth(in.password)
	if cl, err := g.login(ctx, in.user, pwAuth, s.waits.password); err == nil {
		r.set("L04", true, "%s logged in over SSH with the password user-data set (chpasswd)", in.user)
		r.set("L05", true, "sshd accepts password logins: the password user-data set")
		s.keep(cl, pwAuth, "user-data's password")
	} else {
		r.set("L04", false, "%s could not log in with the password user-data set: %v", in.user, err)
		r.set("L05", false, "no password login with the password user-data set: %v", err)
	}
}

// waitCloudInit waits for cloud-init's first boot to finish, where
// cloud-init is installed, before the probe judges it (L03).
func (s *stepCheck) waitCloudInit(ctx context.Context, sh shell) {
	s.ui.Say("Waiting for cloud-init to finish its first boot...")
	err := retry(ctx, s.config.CloudInitTimeout, s.waits.poll, func() error {
		_, err := sh.run(ctx, "command -v cloud-init >/dev/null || exit 0; test -e /var/lib/cloud/instance/boot-finished\n")
		return err
	})
	if err != nil {
		s.ui.Say(fmt.Sprintf("cloud-init did not finish within cloud_init_timeout %s", s.config.CloudInitTimeout))
	}
}

// keep makes cl the way in unless there is one.
func (s *stepCheck) keep(cl *ssh.Client, auth []ssh.AuthMethod, how string) {
	if s.sh == nil {
		s.sh = &sshShell{g: s.g, user: s.in.user, c: cl, auth: auth, how: how}
		return
	}
	cl.Close()
}

// shadowEntry is the script that prints the account's password hash and
// its change date.
func shadowEntry(user string) string {
	return fmt.Sprintf("awk -F: '$1 == %q { print $2 \":\" $3 }' /etc/shadow\n", user)
}

// agent checks L07: guest-ping, guest-set-user-password, then an SSH
// login with the new password; where SSH does not take it (no sshd, no
// password logins), the account's shadow entry read through guest-exec
// must have changed instead. Where nothing else let the check in,
// guest-exec becomes the way in.
func (s *stepCheck) agent(ctx context.Context, sshAnswers bool) {
	in, r := s.in, s.r
	if err := retry(ctx, s.waits.agent, s.waits.poll, func() error { return agentPing(s.d, s.dom) }); err != nil {
		r.set("L07", false, "guest-ping on org.qemu.guest_agent.0 got no answer within %s: %v", s.waits.agent, err)
		return
	}
	exec := &agentShell{d: s.d, dom: s.dom}
	before, beforeErr := exec.run(ctx, shadowEntry(in.user))
	if err := s.d.SetUserPassword(s.dom, in.user, in.agentPassword); err != nil {
		r.set("L07", false, "guest-ping answered; guest-set-user-password for %s failed: %v", in.user, err)
		return
	}
	var sshErr error
	if sshAnswers {
		auth := passwordAuth(in.agentPassword)
		cl, err := s.g.login(ctx, in.user, auth, s.waits.password)
		if err == nil {
			r.set("L07", true, "guest-ping answered; guest-set-user-password set %s's password, and SSH accepted it", in.user)
			if r["L05"].Status != report.Pass {
				r.set("L05", true, "sshd accepts password logins: the password the guest agent set")
			}
			s.keep(cl, auth, "the guest agent's password")
			return
		}
		sshErr = err
	}
	after, err := exec.run(ctx, shadowEntry(in.user))
	how := "SSH does not answer"
	if sshErr != nil {
		how = fmt.Sprintf("SSH refused it: %v", sshErr)
	}
	switch {
	case beforeErr != nil || err != nil:
		r.set("L07", false, "guest-ping answered and guest-set-user-password succeeded, but nothing shows the new password works: %s, and guest-exec failed: %v", how, cmp.Or(beforeErr, err))
	case strings.TrimSpace(after) == "" || after == before:
		r.set("L07", false, "guest-set-user-password succeeded, but %s's entry in /etc/shadow did not change (%s)", in.user, how)
	default:
		r.set("L07", true, "guest-ping answered; guest-set-user-password changed %s's password hash in /etc/shadow (read through guest-exec: %s)", in.user, how)
	}
	if s.sh == nil && err == nil {
		s.sh = exec
	}
}

// secondNIC attaches a NIC and waits for an address on it; it returns the
// address, "" if none came.
func (s *stepCheck) secondNIC(ctx context.Context) string {
	in, r := s.in, s.r
	s.ui.Say(fmt.Sprintf("Attaching a second NIC (%s) to the running instance...", in.secondMAC))
	if err := attachNIC(s.d, s.dom, s.config, in.secondMAC); err != nil {
		r.set("L11", false, "%v", err)
		return "-"
	}
	var got nic
	err := retry(ctx, s.waits.nic, s.waits.poll, func() error {
		f, err := probe(ctx, s.sh)
		if err != nil {
			return err
		}
		n, ok := f.nicByMAC(in.secondMAC)
		if !ok || len(n.addrs) == 0 {
			return fmt.Errorf("no address yet")
		}
		got = n
		return nil
	})
	if err != nil {
		return ""
	}
	r.set("L11", true, "the second NIC %s (%s), added while running, got %s", got.name, got.mac, strings.Join(got.addrs, " "))
	return strings.Join(got.addrs, " ")
}

// reboot reboots the instance from inside, waits for the new boot and
// comes in again the same way; it returns the probe's facts of that boot.
func (s *stepCheck) reboot(ctx context.Context, bootID string) (facts, error) {
	// In the background, so that the command returns before the reboot
	// ends the session.
	if _, err := s.sh.run(ctx, "nohup sh -c 'sleep 2; reboot' >/dev/null 2>&1 &\n"); err != nil {
		return nil, fmt.Errorf("reboot: %v", err)
	}
	var f facts
	err := retry(ctx, s.config.BootTimeout, s.waits.poll, func() error {
		// An attempt that meets the old boot going down must not wait long.
		attempt, cancel := context.WithTimeout(ctx, s.waits.attempt)
		defer cancel()
		sh, err := s.sh.reopen(attempt)
		if err != nil {
			return err
		}
		got, err := probe(attempt, sh)
		if err == nil && got.get("boot_id") == bootID {
			err = fmt.Errorf("still the first boot")
		}
		if err != nil {
			if sh != s.sh {
				sh.close()
			}
			return err
		}
		if sh != s.sh {
			s.sh.close()
		}
		s.sh, f = sh, got
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("no way in after the reboot within boot_timeout %s: %v", s.config.BootTimeout, err)
	}
	return f, nil
}

func (s *stepCheck) Cleanup(multistep.StateBag) {}
