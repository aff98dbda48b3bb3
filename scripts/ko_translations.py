"""Fills locale/ko/LC_MESSAGES/django.po from the table below (run after makemessages).

Kept as code so that a new string without a Korean text fails loudly instead of
silently showing English.
"""

import re
import sys
from pathlib import Path

KO = {
    "owner": "소유자",
    "task": "태스크",
    "status": "상태",
    "accuracy": "정확도",
    "Experiments": "실험",
    "Experiment list": "실험 목록",
    "Pending": "대기 중",
    "Running": "실행 중",
    "Completed": "완료",
    "Failed": "실패",
    "Cancelled": "취소",
    "Image classification": "이미지 분류",
    "Object detection": "객체 탐지",
    "Instance segmentation": "인스턴스 분할",
    "project": "프로젝트",
    "model": "모델",
    "framework": "프레임워크",
    "dataset path": "데이터셋 경로",
    "epochs": "에포크",
    "batch size": "배치 크기",
    "learning rate": "학습률",
    "loss": "손실",
    "created": "생성일",
    "updated": "수정일",
    "started": "시작",
    "completed": "완료",
    "error message": "오류 메시지",
    "training job": "학습 작업",
    "training jobs": "학습 작업",
    "Invalid %(field)s: %(message)s": "잘못된 %(field)s: %(message)s",
    "must be an integer from 1 to %(maximum)d; got %(raw)r.": "1부터 %(maximum)d 사이의 정수여야 합니다. 받은 값: %(raw)r.",
    "must be a positive integer (1, 2, 3, ...); got %(raw)r.": "양의 정수(1, 2, 3, ...)여야 합니다. 받은 값: %(raw)r.",
    "%(value)r is not a status; use one of {statuses} (comma-separate several).": "%(value)r은(는) 상태가 아닙니다. {statuses} 중 하나를 쓰세요 (여러 개는 쉼표로 구분).",
    "Korean": "한국어",
    "English": "영어",
    "experiments by status": "상태별 실험",
    "Projects": "프로젝트",
    "name": "이름",
    "description": "설명",
    "projects": "프로젝트",
    "Bad request": "잘못된 요청",
    "The <code>%(param)s</code> parameter is invalid:": "<code>%(param)s</code> 매개변수가 올바르지 않습니다:",
    "Start over": "처음부터 다시",
    "Not found": "찾을 수 없음",
    "There is nothing here, or it is not yours to see.": "여기에는 아무것도 없거나, 볼 수 있는 권한이 없습니다.",
    "Back to the dashboard": "대시보드로 돌아가기",
    "Vision Platform": "비전 플랫폼",
    "Skip to content": "본문으로 건너뛰기",
    "Main": "주 메뉴",
    "Dashboard": "대시보드",
    "API": "API",
    "Admin": "관리자",
    "Language": "언어",
    "Change": "변경",
    "Log out": "로그아웃",
    "My projects": "내 프로젝트",
    "Experiments by status": "상태별 실험",
    "You have no projects yet.": "아직 프로젝트가 없습니다.",
    "Breadcrumbs": "이동 경로",
    "Filter by status": "상태로 거르기",
    "All": "전체",
    "Experiments of %(name)s, newest first": "%(name)s의 실험, 최신순",
    "Model": "모델",
    "Task": "태스크",
    "Status": "상태",
    "Accuracy": "정확도",
    "Created": "생성일",
    "No experiments on this page.": "이 페이지에는 실험이 없습니다.",
    "No experiments yet.": "아직 실험이 없습니다.",
    "Pages": "페이지",
    "Previous": "이전",
    "Page %(number)s of %(last)s": "%(last)s쪽 중 %(number)s쪽",
    "Next": "다음",
    "Logged out": "로그아웃되었습니다",
    "Log in again": "다시 로그인",
    "Log in": "로그인",
    "Your username and password didn't match. Please try again.": "사용자 이름과 비밀번호가 맞지 않습니다. 다시 시도하세요.",
    "Username": "사용자 이름",
    "Password": "비밀번호",
    "Name a dataset under the datasets root.": "데이터셋 루트 아래의 데이터셋을 지정하세요.",
    "The dataset path is not a valid path.": "데이터셋 경로가 올바른 경로가 아닙니다.",
    "The dataset cannot be read: %(error)s": "데이터셋을 읽을 수 없습니다: %(error)s",
    "The database is unavailable. Please try again in a few seconds.": "데이터베이스를 사용할 수 없습니다. 몇 초 뒤에 다시 시도하세요.",
    "Too many login attempts. Try again in %(seconds)d seconds.": "로그인 시도가 너무 많습니다. %(seconds)d초 뒤에 다시 시도하세요.",
    "The request body is too large (%(length)d bytes; at most %(limit)d).": "요청 본문이 너무 큽니다(%(length)d바이트, 최대 %(limit)d바이트).",
    "The Content-Length header is not a number.": "Content-Length 헤더가 숫자가 아닙니다.",
    "Cancel selected experiments": "선택한 실험 취소",
    "%(count)d experiment(s) cancelled or asked to stop.": "실험 %(count)d개를 취소했거나 중지를 요청했습니다.",
    "accuracy per epoch": "에포크별 정확도",
    "newest experiments": "최근 실험",
    "all experiments": "전체 실험",
    "The dataset must be inside the datasets root (%(root)s).": "데이터셋은 데이터셋 루트(%(root)s) 안에 있어야 합니다.",
    "There is no dataset at %(path)s.": "%(path)s에 데이터셋이 없습니다.",
    "Dataset has no %(split)s split (expected %(split)s/<class>/<images>).": "데이터셋에 %(split)s 분할이 없습니다 (%(split)s/<클래스>/<이미지> 구조가 필요합니다).",
    "The %(split)s split has no class folders with images.": "%(split)s 분할에 이미지가 든 클래스 폴더가 없습니다.",
    "Classification needs at least two classes in train/.": "분류에는 train/에 클래스가 두 개 이상 필요합니다.",
    "The val classes differ from the train classes.": "val 클래스가 train 클래스와 다릅니다.",
    "Dataset has no data.yaml (the YOLO layout detection and segmentation need).": "데이터셋에 data.yaml이 없습니다 (탐지와 분할에는 YOLO 구조가 필요합니다).",
    "data.yaml is not valid YAML: %(error)s": "data.yaml이 올바른 YAML이 아닙니다: %(error)s",
    "data.yaml must be a mapping with train, val and names.": "data.yaml에는 train, val, names가 있어야 합니다.",
    "data.yaml has no class names (names:).": "data.yaml에 클래스 이름(names:)이 없습니다.",
    "data.yaml asks for a download; datasets must be local.": "data.yaml이 다운로드를 요구합니다. 데이터셋은 로컬에 있어야 합니다.",
    "Dataset has no %(split)s split in data.yaml.": "data.yaml에 %(split)s 분할이 없습니다.",
    "data.yaml points outside the datasets root.": "data.yaml이 데이터셋 루트 밖을 가리킵니다.",
    "The %(split)s images folder (%(folder)s) has no images.": "%(split)s 이미지 폴더(%(folder)s)에 이미지가 없습니다.",
    "The labels are boxes, not polygons: segmentation needs polygon labels.": "레이블이 다각형이 아니라 상자입니다. 분할에는 다각형 레이블이 필요합니다.",
    "Framework": "프레임워크",
    "Dataset": "데이터셋",
    "Epochs": "에포크",
    "Batch size": "배치 크기",
    "Learning rate": "학습률",
    "Image size (px)": "이미지 크기 (px)",
    "Optional.": "선택 사항.",
    "image size": "이미지 크기",
    "current epoch": "현재 에포크",
    "worker": "워커",
    "last heartbeat": "마지막 하트비트",
    "cancel requested": "취소 요청",
    "epoch": "에포크",
    "train loss": "학습 손실",
    "validation loss": "검증 손실",
    "duration (s)": "소요 시간 (초)",
    "Choose one of: %(choices)s.": "다음 중 하나를 고르세요: %(choices)s.",
    "%(framework)s has no model named %(model)r.": "%(framework)s에는 %(model)r 모델이 없습니다.",
    "%(model)s trains for %(tasks)s, not %(task)s.": "%(model)s은(는) %(task)s가 아니라 %(tasks)s용입니다.",
    "Must be between %(low)d and %(high)d.": "%(low)d에서 %(high)d 사이여야 합니다.",
    "Must be greater than 0 and at most %(max)s.": "0보다 크고 %(max)s 이하여야 합니다.",
    "This experiment is already %(status)s; only pending or running experiments can be cancelled.": "이 실험은 이미 %(status)s 상태입니다. 대기 중이거나 실행 중인 실험만 취소할 수 있습니다.",
    "latest": "최근",
    "No epochs yet": "아직 에포크 없음",
    "Cancel training": "학습 취소",
    "Parameters": "매개변수",
    "Loss": "손실",
    "Timeline": "타임라인",
    "Started": "시작",
    "Finished": "종료",
    "Curves": "학습 곡선",
    "Validation loss": "검증 손실",
    "Epoch": "에포크",
    "Train loss": "학습 손실",
    "Duration": "소요 시간",
    "Cancel %(name)s": "%(name)s 취소",
    "Cancel": "취소",
    "Running (Epoch %(epoch)s/%(epochs)s)": "실행 중 (Epoch %(epoch)s/%(epochs)s)",
    "Training progress": "학습 진행률",
    "Stopping…": "중지하는 중…",
    "New experiment": "새 실험",
    "The model is trained from scratch by a worker; this project's page follows it live.": "워커가 모델을 처음부터 학습합니다. 프로젝트 페이지에서 실시간으로 볼 수 있습니다.",
    "Back": "돌아가기",
    "Start training": "학습 시작",
}


def po_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main(path: Path) -> int:
    entries = path.read_text().split("\n\n")
    missing = []
    out = []
    for entry in entries:
        match = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', entry, re.M)
        if not match:
            out.append(entry)
            continue
        msgid = "".join(re.findall(r'"(.*)"', match.group(1))).replace('\\"', '"').replace("\\\\", "\\")
        if msgid == "":
            out.append(entry)
            continue
        if msgid not in KO:
            missing.append(msgid)
            out.append(entry)
            continue
        head = entry[: match.start(2)]
        out.append(head.replace("#, fuzzy\n", "") + po_string(KO[msgid]))
    path.write_text("\n\n".join(out).rstrip("\n") + "\n")
    if missing:
        print("No Korean text for:", *missing, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent.parent / "locale/ko/LC_MESSAGES/django.po"))
