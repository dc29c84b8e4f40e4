# The public entry: nginx with the project's nginx.conf (built from the repository root:
# `docker build -f docker-compose/edge.Dockerfile -t pushtech-edge .`). The same image runs in
# compose and in Kubernetes (kubernetes/ingress.yaml); the certificate (/etc/nginx/tls/tls.crt,
# tls.key) and the maintenance flag (/etc/nginx/maintenance/on) are mounted, not built in.
# nginx ≥ 1.25.1 warns that `listen … http2` is deprecated: kept so the tests' nginx 1.22 reads the file.
FROM nginx:1.27
COPY docker-compose/nginx.conf /etc/nginx/nginx.conf
RUN mkdir -p /etc/nginx/tls /etc/nginx/maintenance
EXPOSE 80 443
