# Independent judge for bench/temporal.ts: OpenCV's DIS flow (Debian python3-opencv), never our own.
# Reads raw rgb24 frames written by the bench and prints JSON: per variant, the warping error of
# Lai et al. 2018 (flow of the *input* frames, occlusions masked by a forward-backward check, mean
# squared RGB difference in [0, 1] between O_t and O_{t-1} warped to t), the mean variance of the
# Laplacian (texture kept), and SSIM to the per-frame stylized frames where the input moved.
import json, sys
import cv2
import numpy as np

cv2.setNumThreads(1)
d = sys.argv[1]
meta = json.load(open(f'{d}/meta.json'))
w, h, n = meta['width'], meta['height'], meta['frames']
load = lambda name, i: np.fromfile(f'{d}/{name}-{i:04d}.rgb', np.uint8).reshape(h, w, 3)
dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
masks, flows, moved = [], [], []
inputs = [cv2.cvtColor(load('input', i), cv2.COLOR_RGB2GRAY) for i in range(n)]
for i in range(1, n):
    b = dis.calc(inputs[i], inputs[i - 1], None)
    f = dis.calc(inputs[i - 1], inputs[i], None)
    fb = cv2.remap(f, xx + b[..., 0], yy + b[..., 1], cv2.INTER_LINEAR)
    err = np.sum((b + fb) ** 2, -1)
    ok = err <= 0.01 * (np.sum(b**2, -1) + np.sum(fb**2, -1)) + 0.5
    inside = (xx + b[..., 0] >= 0) & (xx + b[..., 0] <= w - 1) & (yy + b[..., 1] >= 0) & (yy + b[..., 1] <= h - 1)
    masks.append(ok & inside)
    flows.append(b)
    moved.append(np.abs(inputs[i].astype(np.int16) - inputs[i - 1]) > 12)

def ssim_map(a, b):
    a = a.astype(np.float64); b = b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a = cv2.GaussianBlur(a, (11, 11), 1.5); mu_b = cv2.GaussianBlur(b, (11, 11), 1.5)
    saa = cv2.GaussianBlur(a * a, (11, 11), 1.5) - mu_a**2
    sbb = cv2.GaussianBlur(b * b, (11, 11), 1.5) - mu_b**2
    sab = cv2.GaussianBlur(a * b, (11, 11), 1.5) - mu_a * mu_b
    return ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2))

out = {}
for v in meta['variants']:
    frames = [load(v, i).astype(np.float32) / 255 for i in range(n)]
    ew = []
    for i in range(1, n):
        warped = cv2.remap(frames[i - 1], xx + flows[i - 1][..., 0], yy + flows[i - 1][..., 1], cv2.INTER_LINEAR)
        m = masks[i - 1][..., None]
        ew.append(float(np.sum(((frames[i] - warped) ** 2) * m) / max(1, np.sum(m) * 3)))
    lap = [float(cv2.Laplacian(cv2.cvtColor(load(v, i), cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()) for i in range(n)]
    ss = []
    for i in range(1, n):
        mv = moved[i - 1]
        if mv.sum() < 50: continue
        s = ssim_map(cv2.cvtColor(load(v, i), cv2.COLOR_RGB2GRAY), cv2.cvtColor(load('perframe', i), cv2.COLOR_RGB2GRAY))
        ss.append(float(s[mv].mean()))
    out[v] = {'ewarp': float(np.mean(ew)), 'laplacian': float(np.mean(lap)), 'ssim_moving': float(np.mean(ss)) if ss else None}
print(json.dumps(out))
