#!/usr/bin/env bash
# Load: 20 logged-in users for 60 s against gunicorn + PostgreSQL holding the benchmark data (loopback only).
#   bash bench/load.sh [users] [seconds]
#   bash bench/load.sh --smoke      # 2 users for 3 s, one gunicorn worker, a tiny data set: seconds
# Builds the benchmark data set first when it is missing (bench/dataset.py), starts gunicorn with the
# production settings on 127.0.0.1:8077, drives the Parcel changelist, the stalled-parcels dashboard and a
# bag's page, prints requests/s, p50, p95 and errors, and stops gunicorn. Target: 0 errors, p95 < 500 ms.
# BENCH_DATABASE_URL picks the database and LOAD_PORT the port; a sqlite:// database (smoke runs only) gets
# bench/scan.py's small data set instead, as dataset.py needs PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
DATASET_ARGS=()
if [ "${1:-}" = "--smoke" ]; then
  shift
  set -- "${1:-2}" "${2:-3}"
  DATASET_ARGS=(--smoke)
  export WEB_CONCURRENCY=${WEB_CONCURRENCY:-1}
fi
USERS=${1:-20}
SECONDS_=${2:-60}
PORT=${LOAD_PORT:-8077}
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/parcel_bench}
export DJANGO_SETTINGS_MODULE=config.settings.production
export DJANGO_SECRET_KEY="load-$(head -c 48 /dev/urandom | base64)"
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DJANGO_SECURE_SSL_REDIRECT=false
export LOAD_PASSWORD="load-$(head -c 12 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
PY=.venv/bin/python

case "$DATABASE_URL" in
  postgres*) $PY bench/dataset.py --database-url "$DATABASE_URL" "${DATASET_ARGS[@]}" >&2 ;;
  *) $PY bench/scan.py --database-url "$DATABASE_URL" "${DATASET_ARGS[@]}" >/dev/null ;;
esac
$PY manage.py collectstatic --noinput -v0
# One Django start for both: the load user, then a bag with parcels (its id is the last line printed).
BAG_ID=$($PY manage.py shell -c "
import os
from django.contrib.auth import get_user_model
from fulfillment.models import Parcel
from pickups.models import BagItem, ConsolidationBag
User = get_user_model()
user, _ = User.objects.get_or_create(username='loadtest', defaults={'is_staff': True, 'is_superuser': True})
user.is_staff = user.is_superuser = True
user.set_password(os.environ['LOAD_PASSWORD']); user.save()
bag = ConsolidationBag.objects.filter(items__isnull=False).first()
if bag is None:  # the data set has no bags: make one of 120 parcels of one shop, as a clerk would scan
    parcel = Parcel.objects.filter(bag_item__isnull=True).first()
    bag = ConsolidationBag.objects.create(number='LOAD-BAG-1', shop=parcel.shop, sorting_centre='SZ')
    parcels = Parcel.objects.filter(shop=parcel.shop, bag_item__isnull=True)[:120]
    BagItem.objects.bulk_create(BagItem(bag=bag, parcel=p) for p in parcels)
print(bag.pk)
" | tail -1)
[ -n "$BAG_ID" ] || { echo "no bag with parcels in the benchmark data" >&2; exit 1; }

# Cookies are marked Secure in production; the load runs over plain loopback HTTP, so relax that here only.
.venv/bin/gunicorn config.wsgi:application --bind 127.0.0.1:$PORT --workers ${WEB_CONCURRENCY:-3} \
  --timeout 60 --log-level warning --env DJANGO_SETTINGS_MODULE=config.settings.load &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -s -o /dev/null "http://127.0.0.1:$PORT/admin/login/" && break; sleep 0.5; done

$PY bench/load.py --base "http://127.0.0.1:$PORT" --users "$USERS" --duration "$SECONDS_" \
  --username loadtest --password "$LOAD_PASSWORD" \
  /admin/fulfillment/parcel/ /admin/dashboard/stalled/ "/admin/pickups/consolidationbag/$BAG_ID/change/"
