# The classical face detectors of `evaluate --detect` (examples/evaluation/face_detectors.cpp):
# OpenCV's Haar and LBP cascades (Debian libopencv-dev + opencv-data; only core, imgproc and
# objdetect are linked) and dlib's HOG detector (Debian libdlib-dev). Both are optional: the
# library is built with whichever CMake finds, and asking `evaluate` for a missing one is an error
# that names the package. Its one translation unit never includes crisp (fast to compile).
add_library(crisp_face_detectors STATIC ${CMAKE_CURRENT_SOURCE_DIR}/evaluation/face_detectors.cpp)
target_compile_features(crisp_face_detectors PUBLIC cxx_std_20)
target_include_directories(crisp_face_detectors PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/evaluation)
set_target_properties(crisp_face_detectors PROPERTIES POSITION_INDEPENDENT_CODE ON)

find_package(OpenCV QUIET COMPONENTS core imgproc objdetect)
if(OpenCV_FOUND)
  # opencv-data's cascades: <prefix>/share/opencv4/{haarcascades,lbpcascades}.
  find_path(CRISP_OPENCV_DATA_DIR haarcascades/haarcascade_frontalface_alt2.xml
            PATHS ${OpenCV_INSTALL_PATH}/share /usr/share /usr/local/share PATH_SUFFIXES opencv4 opencv
            DOC "folder with OpenCV's haarcascades/ and lbpcascades/ (Debian opencv-data)")
  target_compile_definitions(crisp_face_detectors PRIVATE CRISP_EVAL_HAVE_OPENCV=1)
  target_link_libraries(crisp_face_detectors PRIVATE opencv_core opencv_imgproc opencv_objdetect)
  target_include_directories(crisp_face_detectors SYSTEM PRIVATE ${OpenCV_INCLUDE_DIRS})
  if(CRISP_OPENCV_DATA_DIR)
    target_compile_definitions(crisp_face_detectors PRIVATE CRISP_EVAL_OPENCV_DATA_DIR="${CRISP_OPENCV_DATA_DIR}")
    message(STATUS "crisp evaluate: OpenCV ${OpenCV_VERSION} cascades (haar, lbp) from ${CRISP_OPENCV_DATA_DIR}")
  else()
    message(STATUS "crisp evaluate: OpenCV ${OpenCV_VERSION} found but not its cascades (apt-get install opencv-data)")
  endif()
else()
  message(STATUS "crisp evaluate: no OpenCV - --detect haar,lbp unavailable (apt-get install libopencv-dev opencv-data)")
endif()

find_package(dlib CONFIG QUIET)
if(dlib_FOUND)
  target_compile_definitions(crisp_face_detectors PRIVATE CRISP_EVAL_HAVE_DLIB=1)
  target_link_libraries(crisp_face_detectors PRIVATE dlib::dlib)
  message(STATUS "crisp evaluate: dlib ${dlib_VERSION} HOG face detector (hog)")
else()
  message(STATUS "crisp evaluate: no dlib - --detect hog unavailable (apt-get install libdlib-dev)")
endif()
