"""Keras-like fit/evaluate for the reference port (the semantics are listed in docs/parity.md)."""
import math
import os
import time

import torch
import torch.nn.functional as F


class KerasAdam(torch.optim.Optimizer):
    """Adam in Keras's update form (tf.keras.optimizers.Adam, Keras 2.11+):

        m += (g - m) * (1 - b1);  v += (g*g - v) * (1 - b2)
        lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
        w -= lr_t * m / (sqrt(v) + eps)

    (torch.optim.Adam adds eps to sqrt(v_hat) instead, a slightly different step.)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                m, v = state["m"], state["v"]
                alpha = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
                m.add_((g - m).mul_(1.0 - b1))
                v.add_((g * g - v).mul_(1.0 - b2))
                p.addcdiv_(m, v.sqrt().add_(eps), value=-alpha)
        return loss


def make_optimizer(model_name, model, adam="keras"):
    if model_name == "cnn":
        return torch.optim.SGD(model.parameters(), lr=0.01)
    if adam == "torch":
        return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    return KerasAdam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)


def keras_lr_schedule(epoch):
    """The notebook's lr_schedule (defined there, never attached; --lr-schedule attaches it)."""
    lr = 1e-3
    if epoch > 180:
        lr *= 0.5e-3
    elif epoch > 160:
        lr *= 1e-3
    elif epoch > 120:
        lr *= 1e-2
    elif epoch > 80:
        lr *= 1e-1
    return lr


class EarlyStopping:
    """keras.callbacks.EarlyStopping(monitor='val_loss', mode='min', patience, min_delta)."""

    def __init__(self, patience=10, min_delta=0.0):
        self.patience = patience
        self.min_delta = abs(min_delta)
        self.wait = 0
        self.best = math.inf
        self.best_epoch = 0
        self.stopped_epoch = 0

    def on_epoch_end(self, epoch, current):
        """epoch is 0-based; returns True when training must stop."""
        self.wait += 1
        # Keras: monitor_op(current - min_delta, best) with min_delta negated for mode 'min'
        if current + self.min_delta < self.best:
            self.best = current
            self.best_epoch = epoch
            self.wait = 0
            return False
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            return True
        return False


def _loss(model, logits, y):
    loss = F.cross_entropy(logits, y)
    reg = model.regularization_loss()
    return loss if reg is None else loss + reg


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def evaluate(model, x, y, batch_size=128, return_predictions=False):
    """Keras model.evaluate: inference mode, sample-weighted means; loss includes l2."""
    model.eval()
    loss_sum = torch.zeros((), device=x.device, dtype=torch.float64)
    correct = torch.zeros((), device=x.device, dtype=torch.int64)
    preds = []
    for i in range(0, x.shape[0], batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        logits = model(xb)
        loss_sum += _loss(model, logits, yb).double() * xb.shape[0]
        pred = logits.argmax(1)
        correct += (pred == yb).sum()
        if return_predictions:
            preds.append(pred)
    n = x.shape[0]
    out = {"loss": loss_sum.item() / n, "accuracy": correct.item() / n}
    if return_predictions:
        out["predictions"] = torch.cat(preds).cpu()
    return out


def _fmt_time(seconds):
    return f"{seconds:.0f}s" if seconds >= 1 else f"{seconds * 1000:.0f}ms"


def fit(model, optimizer, x, y, x_val, y_val, epochs=25, batch_size=128, seed=0,
        early_stopping=None, lr_schedule=None, verbose=True, log=print):
    """Keras model.fit(shuffle=True): returns a history dict."""
    device = x.device
    gen = torch.Generator()
    gen.manual_seed(seed)
    n = x.shape[0]
    steps = -(-n // batch_size)
    hist = {"epoch": [], "loss": [], "accuracy": [], "val_loss": [], "val_accuracy": [],
            "seconds": [], "train_seconds": [], "ms_per_step": [], "loadavg": []}
    stopped_epoch = None
    for epoch in range(epochs):
        if lr_schedule is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_schedule(epoch)
        if verbose:
            log(f"Epoch {epoch + 1}/{epochs}")
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        loss_sum = torch.zeros((), device=device, dtype=torch.float64)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        for i in range(steps):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            xb, yb = x[idx], y[idx]
            logits = model(xb)
            loss = _loss(model, logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                loss_sum += loss.detach().double() * xb.shape[0]
                correct += (logits.argmax(1) == yb).sum()
        train_loss, train_acc = loss_sum.item() / n, correct.item() / n  # .item() syncs
        t_train = time.perf_counter() - t0
        val = evaluate(model, x_val, y_val, batch_size)
        _sync(device)
        t_epoch = time.perf_counter() - t0
        ms_step = t_train * 1000 / steps
        for k, v in (("epoch", epoch + 1), ("loss", train_loss), ("accuracy", train_acc),
                     ("val_loss", val["loss"]), ("val_accuracy", val["accuracy"]),
                     ("seconds", t_epoch), ("train_seconds", t_train), ("ms_per_step", ms_step),
                     ("loadavg", os.getloadavg()[0])):  # 1-min load: is the machine shared?
            hist[k].append(v)
        if verbose:
            log(f"{steps}/{steps} - {_fmt_time(t_epoch)} {ms_step:.0f}ms/step - loss: {train_loss:.4f}"
                f" - accuracy: {train_acc:.4f} - val_loss: {val['loss']:.4f}"
                f" - val_accuracy: {val['accuracy']:.4f}", )
        if early_stopping is not None and early_stopping.on_epoch_end(epoch, val["loss"]):
            stopped_epoch = epoch + 1
            break
    if stopped_epoch is not None and verbose:
        log(f"Epoch {stopped_epoch:05d}: early stopping")
    hist["steps_per_epoch"] = steps
    hist["stopped_epoch"] = stopped_epoch
    return hist
