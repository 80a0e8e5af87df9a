package glance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
)

// connect authenticates with Keystone and returns Glance's client, from
// the cloud of clouds.yaml with the settings as overrides, or from the
// settings alone.
func (a *AuthConfig) connect(ctx context.Context) (*gophercloud.ServiceClient, error) {
	ao, eo, tlsConfig, err := a.options()
	if err != nil {
		return nil, err
	}
	ao.AllowReauth = ao.TokenID == ""
	var hc http.Client
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConfig != nil {
		transport.TLSClientConfig = tlsConfig
	}
	hc.Transport = lengthTransport{transport}
	pc, err := config.NewProviderClient(ctx, ao, config.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("authenticating with Keystone at %s: %w", ao.IdentityEndpoint, err)
	}
	if a.EndpointOverride != "" {
		client := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: gophercloud.NormalizeURL(a.EndpointOverride), Type: "image"}
		client.ResourceBase = client.Endpoint + "v2/"
		return client, nil
	}
	client, err := openstack.NewImageV2(pc, eo)
	if err != nil {
		return nil, fmt.Errorf("finding Glance in the catalog (region %q, %s interface): %w", eo.Region, eo.Availability, err)
	}
	return client, nil
}

// options are Keystone's credentials and scope, where to find Glance in
// the catalog, and TLS: from the cloud of clouds.yaml with the settings as
// overrides, or from the settings alone.
func (a *AuthConfig) options() (gophercloud.AuthOptions, gophercloud.EndpointOpts, *tls.Config, error) {
	if a.Cloud == "" {
		tlsConfig, err := a.tlsConfig()
		return a.authOptions(), gophercloud.EndpointOpts{Region: a.Region, Availability: availability(a.EndpointType)}, tlsConfig, err
	}
	ao, eo, tlsConfig, err := clouds.Parse(a.cloudOverrides()...)
	if err != nil {
		return ao, eo, nil, fmt.Errorf("cloud %q: %w", a.Cloud, err)
	}
	a.overrideScope(&ao)
	return ao, eo, tlsConfig, nil
}

func (a *AuthConfig) cloudOverrides() []clouds.ParseOption {
	opts := []clouds.ParseOption{clouds.WithCloudName(a.Cloud)}
	for _, o := range []struct {
		v string
		f func(string) clouds.ParseOption
	}{
		{a.IdentityEndpoint, clouds.WithIdentityEndpoint}, {a.Username, clouds.WithUsername},
		{a.UserID, clouds.WithUserID}, {a.Password, clouds.WithPassword},
		{a.ProjectName, clouds.WithProjectName}, {a.ProjectID, clouds.WithProjectID},
		{a.UserDomainName, clouds.WithDomainName}, {a.UserDomainID, clouds.WithDomainID},
		{a.ApplicationCredentialID, clouds.WithApplicationCredentialID},
		{a.ApplicationCredentialName, clouds.WithApplicationCredentialName},
		{a.ApplicationCredentialSecret, clouds.WithApplicationCredentialSecret},
		{a.Token, clouds.WithToken}, {a.Region, clouds.WithRegion}, {a.EndpointType, clouds.WithEndpointType},
		{a.CACertFile, clouds.WithCACertPath}, {a.ClientCert, clouds.WithClientCertPath}, {a.ClientKey, clouds.WithClientKeyPath},
	} {
		if o.v != "" {
			opts = append(opts, o.f(o.v))
		}
	}
	if a.Insecure {
		opts = append(opts, clouds.WithInsecure(true))
	}
	return opts
}

func (a *AuthConfig) authOptions() gophercloud.AuthOptions {
	ao := gophercloud.AuthOptions{
		IdentityEndpoint: a.IdentityEndpoint,
		Username:         a.Username, UserID: a.UserID, Password: a.Password,
		DomainName: a.UserDomainName, DomainID: a.UserDomainID,
		TenantName: a.ProjectName, TenantID: a.ProjectID,
		ApplicationCredentialID:     a.ApplicationCredentialID,
		ApplicationCredentialName:   a.ApplicationCredentialName,
		ApplicationCredentialSecret: a.ApplicationCredentialSecret,
		TokenID:                     a.Token,
	}
	if a.ApplicationCredentialSecret != "" {
		// An application credential carries its own scope.
		ao.TenantName, ao.TenantID = "", ""
	} else if a.SystemScope != "" {
		ao.Scope = &gophercloud.AuthScope{System: true}
	} else if a.ProjectName != "" && (a.ProjectDomainName != "" || a.ProjectDomainID != "") {
		ao.Scope = &gophercloud.AuthScope{ProjectName: a.ProjectName, DomainName: a.ProjectDomainName, DomainID: a.ProjectDomainID}
	} else if a.ProjectID != "" {
		ao.Scope = &gophercloud.AuthScope{ProjectID: a.ProjectID}
	}
	return ao
}

// overrideScope applies the settings that override a cloud's scope.
// clouds.Parse takes the project's name or ID from its options but its
// domain only from clouds.yaml, and knows no system scope but the file's:
// the project_domain_* and system_scope settings go here.
func (a *AuthConfig) overrideScope(ao *gophercloud.AuthOptions) {
	switch {
	case ao.ApplicationCredentialSecret != "":
	case a.SystemScope != "":
		ao.Scope = &gophercloud.AuthScope{System: true}
		ao.TenantName, ao.TenantID = "", ""
	case ao.Scope != nil && ao.Scope.ProjectName != "" && (a.ProjectDomainName != "" || a.ProjectDomainID != ""):
		// An ID names the domain alone; a name given here replaces the
		// file's ID as well as its name.
		ao.Scope.DomainName, ao.Scope.DomainID = a.ProjectDomainName, a.ProjectDomainID
		if a.ProjectDomainID != "" {
			ao.Scope.DomainName = ""
		}
	}
}

func (a *AuthConfig) tlsConfig() (*tls.Config, error) {
	if !a.Insecure && a.CACertFile == "" && a.ClientCert == "" {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: a.Insecure}
	if a.CACertFile != "" {
		pem, err := os.ReadFile(a.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cacert %s: no PEM certificate in it", a.CACertFile)
		}
		cfg.RootCAs = pool
	}
	if a.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(a.ClientCert, a.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("cert and key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func availability(endpointType string) gophercloud.Availability {
	switch endpointType {
	case "internal", "internalURL":
		return gophercloud.AvailabilityInternal
	case "admin", "adminURL":
		return gophercloud.AvailabilityAdmin
	}
	return gophercloud.AvailabilityPublic
}
