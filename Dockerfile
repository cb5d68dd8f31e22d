# faxgate appliance image: `docker build -t faxgate .`
#
# Build arguments (all empty no-ops on an ordinary machine):
#   BASE_IMAGE        another Debian bookworm base (default debian:bookworm-slim)
#   APT_OPTIONS       extra apt-get options, e.g. for a snapshot mirror: -o Acquire::Check-Valid-Until=false
#   EXTRA_CA_CERTS    PEM text of extra CA certificates the build stage needs to reach PyPI
#                     (a machine behind a TLS-inspecting proxy); never copied into the final image

ARG BASE_IMAGE=debian:bookworm-slim

# --- build stage: the app and its locked dependencies in a virtualenv ------------------------
FROM ${BASE_IMAGE} AS build
ARG APT_OPTIONS=""
ENV DEBIAN_FRONTEND=noninteractive
ARG EXTRA_CA_CERTS=""
RUN apt-get ${APT_OPTIONS} update \
 && apt-get ${APT_OPTIONS} install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN if [ -n "$EXTRA_CA_CERTS" ]; then \
      printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/build-extra.crt \
      && update-ca-certificates >/dev/null; \
    fi
# --copies: the venv gets its own interpreter binary, so the capability to bind ports below
# 1024 (set in the final stage) is given to faxgate's interpreter only, not to every python3.
RUN python3 -m venv --copies /opt/faxgate
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.lock /tmp/requirements.lock
RUN /opt/faxgate/bin/pip install -q -r /tmp/requirements.lock
COPY pyproject.toml README.md /src/
COPY app /src/app
RUN /opt/faxgate/bin/pip install -q --no-deps /src \
 && /opt/faxgate/bin/pip uninstall -q -y pip setuptools \
 && find /opt/faxgate -depth -type d \( -name tests -o -name __pycache__ \) -path '*/site-packages/*' \
      -not -path '*/faxgate/*' -exec rm -rf {} +

# --- final stage ------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG APT_OPTIONS=""
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get ${APT_OPTIONS} update \
 && apt-get ${APT_OPTIONS} install -y --no-install-recommends \
      python3 libspandsp2 ghostscript libtiff-tools fonts-dejavu-core libcap2-bin tini \
      procps iproute2 avahi-utils \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/*
# Debian already has the group fax (gid 21, HylaFAX's); the user is ours.
RUN useradd --system --gid fax --home-dir /var/spool/hylafax --no-create-home \
      --shell /usr/sbin/nologin fax
COPY --from=build /opt/faxgate /opt/faxgate
# Bind 25/631/80 as the unprivileged fax user: the capability, not root.
RUN setcap cap_net_bind_service=+ep "$(readlink -f /opt/faxgate/bin/python3)"
COPY rootfs/ /
COPY appliance.yml /etc/faxgate/appliance.yml

ENV PATH=/opt/faxgate/bin:$PATH \
    FAXGATE_SPOOL=/var/spool/hylafax \
    FAXGATE_ROOTFS=/ \
    FAXGATE_USER=fax \
    FAXGATE_CONFIG=/etc/faxgate/container.yml:/etc/faxgate/appliance.yml \
    PYTHONDONTWRITEBYTECODE=1

VOLUME /var/spool/hylafax
EXPOSE 25 631 80 4570-4573/udp
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/opt/faxgate/bin/python3", "-m", "faxgate.healthcheck"]
# tini reaps zombies and forwards SIGTERM to supervisord, which stops every program.
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/faxgate/bin/python3", "-m", "faxgate"]
CMD ["run"]
