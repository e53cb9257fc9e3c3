from pickups.barcodes import QUIET_ZONE_MODULES, code128_modules, code128_svg


def test_code128_starts_with_start_b_and_ends_with_the_stop_pattern():
    modules = code128_modules("HS261125000001")
    assert modules.endswith("1100011101011")  # stop pattern + termination bar
    assert modules[:11] in ("11010010000", "11010011100", "11010000100")  # START A/B/C


def test_the_svg_draws_every_bar_inside_its_quiet_zones():
    modules = code128_modules("SZ261125000001")
    svg = str(code128_svg("SZ261125000001"))
    assert svg.startswith("<svg") and f'viewBox="0 0 {len(modules) + 2 * QUIET_ZONE_MODULES} 40"' in svg
    bars = svg.count("<rect") - 1  # minus the white background
    assert bars == len([run for run in modules.split("0") if run])
    assert 'aria-label="SZ261125000001"' in svg
