"""The scan's partial indexes over unfinished parcels move into the Parcel model's own state, their
predicate now `fulfillment.models.unfinished()` — the very expression the scan filters with.

They were created by monitoring 0004 with raw SQL under longer names (now a no-op for new
databases); this drops those, if there, and creates them under names Django accepts.
"""

import core.db.expressions
from django.conf import settings
from django.db import migrations, models


OLD_NAMES = ("parcel_open_stagnation_warn_idx", "parcel_open_update_warn_idx", "parcel_open_ship_due_idx")


class Migration(migrations.Migration):

    dependencies = [
        ('fulfillment', '0011_shop_timezone_validator'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            sql=[f"DROP INDEX IF EXISTS {name}" for name in OLD_NAMES],
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name='parcel',
            index=models.Index(condition=models.Q(core.db.expressions.NotIn('status', ['cancelled', 'delivered', 'returned', 'lost'])), fields=['stagnation_warn_at'], name='parcel_open_stagn_warn_idx'),
        ),
        migrations.AddIndex(
            model_name='parcel',
            index=models.Index(condition=models.Q(core.db.expressions.NotIn('status', ['cancelled', 'delivered', 'returned', 'lost'])), fields=['update_warn_at'], name='parcel_open_update_warn_idx'),
        ),
        migrations.AddIndex(
            model_name='parcel',
            index=models.Index(condition=models.Q(core.db.expressions.NotIn('status', ['cancelled', 'delivered', 'returned', 'lost'])), fields=['ship_due_at'], name='parcel_open_ship_due_idx'),
        ),
    ]
