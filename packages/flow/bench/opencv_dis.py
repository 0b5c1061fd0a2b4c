# The baseline for flow.bench.ts: OpenCV's DISOpticalFlow (Debian python3-opencv, one thread).
# Writes into the folder given: 640x360 luma test pairs from the shared real clips — frames warped
# by known flows (translation, rotation, zoom, a smooth random field) and real consecutive pairs —
# their true flows, OpenCV's flow for each pair at each preset, and meta.json with OpenCV's time
# per pair (median of 40 calls after one warm-up).
# Usage: /usr/bin/python3 opencv_dis.py <media folder> <out folder>
import json, sys, time
import cv2
import numpy as np

cv2.setNumThreads(1)
media, out = sys.argv[1], sys.argv[2]

def frames(path, idx):
    cap = cv2.VideoCapture(path)
    res, i = [], 0
    while i <= max(idx):
        ok, f = cap.read()
        if not ok:
            break
        if i in idx:
            g = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
            res.append(cv2.resize(g, (640, 360), interpolation=cv2.INTER_AREA))
        i += 1
    return res

F = frames(f'{media}/flower.mp4', [30, 31]) + frames(f'{media}/car-detection.mp4', [100, 101])
h, w = F[0].shape
yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
cx, cy = (w - 1) / 2, (h - 1) / 2
field = cv2.resize(np.random.default_rng(1).normal(size=(6, 10, 2)).astype(np.float32) * 4, (w, h),
                   interpolation=cv2.INTER_CUBIC)
a = np.deg2rad(3)
cases = {
    'translate': (np.full((h, w), 3.3, np.float32), np.full((h, w), -1.7, np.float32)),
    'rotate': (np.cos(a) * (xx - cx) - np.sin(a) * (yy - cy) + cx - xx, np.sin(a) * (xx - cx) + np.cos(a) * (yy - cy) + cy - yy),
    'zoom': (1.05 * (xx - cx) + cx - xx, 1.05 * (yy - cy) + cy - yy),
    'field': (field[..., 0], field[..., 1]),
}
keys = []
for src, clip in [(F[0], 'flower'), (F[2], 'car')]:
    for name, (gx, gy) in cases.items():
        key = f'{clip}-{name}'
        # a(x) = b(x + g(x)): the flow from a to b is g.
        cv2.remap(src, xx + gx, yy + gy, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT).tofile(f'{out}/{key}.a.raw')
        src.tofile(f'{out}/{key}.b.raw')
        np.stack([gx, gy], -1).astype(np.float32).tofile(f'{out}/{key}.gt.raw')
        keys.append(key)
for key, (p, q) in {'flower-real': (F[0], F[1]), 'car-real': (F[2], F[3])}.items():
    p.tofile(f'{out}/{key}.a.raw')
    q.tofile(f'{out}/{key}.b.raw')
    keys.append(key)
ms = {}
for preset, pid in [('ultrafast', cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST), ('fast', cv2.DISOPTICAL_FLOW_PRESET_FAST),
                    ('medium', cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)]:
    dis = cv2.DISOpticalFlow_create(pid)
    for key in keys:
        A = np.fromfile(f'{out}/{key}.a.raw', np.uint8).reshape(h, w)
        B = np.fromfile(f'{out}/{key}.b.raw', np.uint8).reshape(h, w)
        flow = dis.calc(A, B, None)
        times = []
        for _ in range(40):
            t = time.perf_counter()
            dis.calc(A, B, None)
            times.append(time.perf_counter() - t)
        ms[f'{key}/{preset}'] = float(np.median(times)) * 1000
        flow.astype(np.float32).tofile(f'{out}/{key}.cv-{preset}.raw')
json.dump({'width': w, 'height': h, 'keys': keys, 'ms': ms}, open(f'{out}/meta.json', 'w'))
